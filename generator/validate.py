"""Validate a loaded document against the OpenAPI 3.0 / 3.1 specification."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

from .errors import Diagnostic, InvalidSpec
from .loader import LoadedSpec, escape_pointer

MAX_REPORTED = 50


def validate(spec: LoadedSpec) -> None:
    """Raise InvalidSpec listing every problem (file, JSON pointer, message); return when valid."""
    problems = list(find_problems(spec))
    if problems:
        raise InvalidSpec(problems[0].message, tuple(problems))


def find_problems(spec: LoadedSpec) -> Iterable[Diagnostic]:
    validator_class: Any = (
        OpenAPIV31SpecValidator if spec.version.startswith("3.1") else OpenAPIV30SpecValidator
    )
    validator = validator_class(spec.document)
    seen: set[tuple[str, str]] = set()
    found = 0
    errors = validator.iter_errors()
    while found < MAX_REPORTED:
        try:
            error = next(errors)
        except StopIteration:
            return
        except Exception as exc:  # the validator's own semantic pass can trip over broken input
            if found == 0:
                yield Diagnostic(str(spec.path), "", f"document could not be validated: {exc!r}")
            return
        diagnostic = _to_diagnostic(spec, error)
        key = (diagnostic.pointer, diagnostic.message)
        if key not in seen:
            seen.add(key)
            found += 1
            yield diagnostic


def _to_diagnostic(spec: LoadedSpec, error: Any) -> Diagnostic:
    parts = list(getattr(error, "absolute_path", []) or [])
    pointer = "".join(f"/{escape_pointer(str(part))}" for part in parts)
    message = str(getattr(error, "message", error)).splitlines()[0]
    return Diagnostic(str(spec.path), pointer or "/", message)
