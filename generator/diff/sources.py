"""The two sides of `contract diff`: a contract read from a file or from `git:REV:PATH`.

PATH is as git names it: from the repository root, or `./PATH` from the current folder. A git blob
is written to a private temporary folder and read through `generator.spec.loader`, so both sides
get the same size limits, safe YAML and `$ref` checks. Whatever cannot be read is `UnreadableSpec`
(exit 2), naming what the user typed. Both sides are validated too; what breaks the OpenAPI
specification is kept as `problems`, for the command to refuse or to warn about.
"""

from __future__ import annotations

import subprocess  # noqa: S404 - git runs without a shell, with a fixed argument list
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from generator.spec.errors import ContractError, Diagnostic, InvalidSpec, UnreadableSpec
from generator.spec.loader import LoadedSpec, load_spec
from generator.spec.validate import validate

GIT_PREFIX = "git:"
GIT_TIMEOUT_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Contract:
    label: str  # what the user typed: a path or git:REV:PATH
    document: dict[str, Any]
    problems: tuple[Diagnostic, ...] = ()  # where it breaks the OpenAPI specification


def load_contract(source: str) -> Contract:
    """A contract from a file or `git:REV:PATH`; UnreadableSpec (exit 2) with one line if not."""
    if source.startswith(GIT_PREFIX):
        return _load_from_git(source)
    try:
        spec = load_spec(Path(source))
    except ContractError as exc:
        raise _unreadable(exc, None, source) from None
    return Contract(source, spec.document, _problems(spec, None, source))


def parse_git_source(source: str) -> tuple[str, str]:
    """`git:REV:PATH` → (REV, PATH)."""
    rev, sep, path = source[len(GIT_PREFIX) :].partition(":")
    if not sep or not rev or not path:
        raise UnreadableSpec(
            f"{source}: expected git:REV:PATH, for example git:origin/main:spec/agentos.yaml"
        )
    if rev.startswith("-"):
        raise UnreadableSpec(f"{source}: a git revision cannot start with '-'")
    return rev, path


def _load_from_git(source: str) -> Contract:
    rev, path = parse_git_source(source)
    kind = _git(source, ["cat-file", "-t", f"{rev}:{path}"], None).strip()
    if kind != "blob":
        raise UnreadableSpec(f"{source}: {path!r} at {rev} is a {kind}, expected a file")
    with tempfile.TemporaryDirectory(prefix="contract-diff-") as folder:
        name = PurePosixPath(path).name or "spec.yaml"
        target = Path(folder) / name
        with target.open("wb") as handle:
            _git(source, ["show", "--no-textconv", f"{rev}:{path}"], handle)
        try:
            spec = load_spec(target)
        except ContractError as exc:
            raise _unreadable(exc, str(target), source) from None
        problems = _problems(spec, str(target), source)
    return Contract(source, spec.document, problems)


def _git(source: str, arguments: Sequence[str], stdout: Any) -> str:
    """Run git without a shell; its stdout goes to `stdout` (a file) or is returned."""
    command = ["git", "--no-pager", *arguments]
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
            command,
            stdin=subprocess.DEVNULL,
            stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise UnreadableSpec(f"{source}: git is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise UnreadableSpec(
            f"{source}: git did not answer within {GIT_TIMEOUT_SECONDS} s"
        ) from None
    if completed.returncode != 0:
        errors = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = errors[0] if errors else f"git exited with {completed.returncode}"
        reason = reason.removeprefix("fatal: ").removeprefix("error: ")
        raise UnreadableSpec(f"{source}: cannot read it from git: {reason}")
    output = completed.stdout
    return output.decode("utf-8", "replace") if isinstance(output, bytes) else ""


def _problems(spec: LoadedSpec, temp_path: str | None, label: str) -> tuple[Diagnostic, ...]:
    try:
        validate(spec)
    except InvalidSpec as exc:
        return _relabelled(exc.diagnostics, temp_path, label)
    return ()


def _unreadable(exc: ContractError, temp_path: str | None, label: str) -> UnreadableSpec:
    """The loader's error as exit 2, naming what the user typed rather than a temporary file."""
    message = exc.message.replace(temp_path, label) if temp_path else exc.message
    return UnreadableSpec(message, _relabelled(exc.diagnostics, temp_path, label))


def _relabelled(
    diagnostics: tuple[Diagnostic, ...], temp_path: str | None, label: str
) -> tuple[Diagnostic, ...]:
    def fix(text: str) -> str:
        return text.replace(temp_path, label) if temp_path else text

    return tuple(
        Diagnostic(fix(d.file), d.pointer, fix(d.message), d.hint, d.level) for d in diagnostics
    )
