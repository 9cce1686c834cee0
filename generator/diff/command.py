"""`contract diff OLD NEW`: every change between two contracts, classified; text, JSON, Markdown.

OLD and NEW are files or `git:REV:PATH` (PATH as git names it: from the repository root, or
`./PATH` from the current folder). A git blob is written to a private temporary folder and read
through `generator.loader`, so both sides get the same size limits, safe YAML and `$ref` checks.
Exit 0 when nothing is breaking, 1 when something is, 2 when a contract cannot be read.
"""

from __future__ import annotations

import json
import subprocess  # noqa: S404 - git runs without a shell, with a fixed argument list
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TextIO

from generator.diff.engine import compare_documents
from generator.diff.rules import BREAKING, NON_BREAKING, Change
from generator.spec.errors import (
    EXIT_FAILED,
    EXIT_OK,
    ContractError,
    Diagnostic,
    UnreadableSpec,
    UsageError,
)
from generator.spec.loader import load_spec

FORMATS = ("text", "json", "markdown")
GIT_PREFIX = "git:"
GIT_TIMEOUT_SECONDS = 60
MARKDOWN_MAX_ROWS = 200  # a pull-request comment has a size limit; JSON always has everything


@dataclass(frozen=True, slots=True)
class Contract:
    label: str  # what the user typed: a path or git:REV:PATH
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DiffResult:
    old: str
    new: str
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.level == BREAKING)

    @property
    def non_breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.level == NON_BREAKING)


def run_diff(old: str, new: str, output_format: str = "text", out: TextIO | None = None) -> int:
    """Print the classified changes; EXIT_FAILED if any is breaking, else EXIT_OK."""
    if output_format not in FORMATS:
        raise UsageError(f"unknown format {output_format!r}; choose one of {', '.join(FORMATS)}")
    result = diff_contracts(load_contract(old), load_contract(new))
    stream = out if out is not None else sys.stdout
    stream.write(render(result, output_format))
    return EXIT_FAILED if result.breaking else EXIT_OK


def diff_contracts(old: Contract, new: Contract) -> DiffResult:
    try:
        changes = compare_documents(old.document, new.document)
    except RecursionError:
        raise UnreadableSpec(f"{old.label} → {new.label}: nested too deeply to compare") from None
    return DiffResult(old.label, new.label, tuple(changes))


def render(result: DiffResult, output_format: str) -> str:
    if output_format == "json":
        return render_json(result)
    if output_format == "markdown":
        return render_markdown(result)
    return render_text(result)


# -- reading contracts ---------------------------------------------------------------------------


def load_contract(source: str) -> Contract:
    """A contract from a file or `git:REV:PATH`; UnreadableSpec (exit 2) with one line if not."""
    if source.startswith(GIT_PREFIX):
        return _load_from_git(source)
    try:
        spec = load_spec(Path(source))
    except ContractError as exc:
        raise _unreadable(exc, None, source) from None
    return Contract(source, spec.document)


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
    return Contract(source, spec.document)


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


def _unreadable(exc: ContractError, temp_path: str | None, label: str) -> UnreadableSpec:
    """The loader's error as exit 2, naming what the user typed rather than a temporary file."""

    def fix(text: str) -> str:
        return text.replace(temp_path, label) if temp_path else text

    diagnostics = tuple(
        Diagnostic(fix(d.file), d.pointer, fix(d.message), d.hint) for d in exc.diagnostics
    )
    return UnreadableSpec(fix(exc.message), diagnostics)


# -- output ------------------------------------------------------------------------------------


def _summary(result: DiffResult) -> str:
    breaking, other = len(result.breaking), len(result.non_breaking)
    if not result.changes:
        return "no changes"
    return f"{breaking} breaking, {other} non-breaking"


def render_text(result: DiffResult) -> str:
    lines = [f"contract diff {result.old} → {result.new}"]
    for change in result.changes:
        level = "BREAKING" if change.level == BREAKING else "non-breaking"
        operation = change.operation or "(document)"
        lines.append(f"{level:<13} {operation}  [{change.id}]")
        lines.append(f"{'':<13} {change.location}: {change.message}")
        lines.append(f"{'':<13} at #{change.pointer}")
    lines.append(f"summary: {_summary(result)}")
    return "\n".join(lines) + "\n"


def render_json(result: DiffResult) -> str:
    data = {
        "old": result.old,
        "new": result.new,
        "summary": {
            BREAKING: len(result.breaking),
            NON_BREAKING: len(result.non_breaking),
        },
        "changes": [change.as_dict() for change in result.changes],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _code(text: str) -> str:
    """Inline code that survives backticks inside it."""
    if not text:
        return ""
    fence = "`"
    while fence in text:
        fence += "`"
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{_cell(padded)}{fence}"


def render_markdown(result: DiffResult) -> str:
    breaking, other = len(result.breaking), len(result.non_breaking)
    if breaking:
        title = f"### :x: API contract: {breaking} breaking change{'s' * (breaking != 1)}"
    else:
        title = "### :white_check_mark: API contract: no breaking changes"
    lines = [
        title,
        "",
        f"Comparing {_code(result.old)} → {_code(result.new)}: "
        f"**{breaking} breaking**, {other} non-breaking.",
    ]
    if not result.changes:
        lines += ["", "The two contracts describe the same API."]
        return "\n".join(lines) + "\n"
    lines += [
        "",
        "| Level | Rule | Operation | Where | Change |",
        "| --- | --- | --- | --- | --- |",
    ]
    for change in result.changes[:MARKDOWN_MAX_ROWS]:
        level = "**breaking**" if change.level == BREAKING else "non-breaking"
        operation = _code(change.operation) if change.operation else "(document)"
        row = (level, _code(change.id), operation, _cell(change.location), _cell(change.message))
        lines.append("| " + " | ".join(row) + " |")
    hidden = len(result.changes) - MARKDOWN_MAX_ROWS
    if hidden > 0:
        lines += ["", f"… and {hidden} more; run `contract diff --format json` for all of them."]
    return "\n".join(lines) + "\n"
