"""Problems the user can act on: every failure the toolkit reports is one of these."""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILED = 1  # invalid spec, stale output, breaking change, conformance violations
EXIT_UNUSABLE = 2  # unreadable input, not OpenAPI 3.x, usage error, unreachable server


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a document: where it is (file and JSON pointer) and what to do about it."""

    file: str
    pointer: str
    message: str
    hint: str = ""
    level: str = "error"  # or "warning": reported, but the document is still usable

    def __str__(self) -> str:
        where = f"{self.file}#{self.pointer}" if self.pointer else self.file
        prefix = "warning: " if self.level == "warning" else ""
        text = f"{prefix}{where}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class ContractError(Exception):
    """A failure with one clear line per problem and the exit code DESIGN.md assigns to it."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, diagnostics: tuple[Diagnostic, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.diagnostics = diagnostics

    def lines(self) -> list[str]:
        return [str(d) for d in self.diagnostics] or [self.message]


class UnreadableSpec(ContractError):
    """The file cannot be read, is not YAML/JSON, or is not an OpenAPI 3.x document."""

    exit_code = EXIT_UNUSABLE


class InvalidSpec(ContractError):
    """The document is OpenAPI 3.x but breaks the specification."""

    exit_code = EXIT_FAILED


class UnsupportedSpec(ContractError):
    """The document is valid but uses a construct the generator refuses to guess about."""

    exit_code = EXIT_FAILED


class UsageError(ContractError):
    exit_code = EXIT_UNUSABLE
