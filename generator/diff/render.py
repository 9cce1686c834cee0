"""What `contract diff` found, and that result as text, JSON or Markdown."""

from __future__ import annotations

import json
from dataclasses import dataclass

from generator.diff.rules import BREAKING, NON_BREAKING, WARN, Change

FORMATS = ("text", "json", "markdown")
MARKDOWN_MAX_ROWS = 200  # a pull-request comment has a size limit; JSON always has everything


@dataclass(frozen=True, slots=True)
class DiffResult:
    old: str
    new: str
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.level == BREAKING)

    @property
    def warnings(self) -> tuple[Change, ...]:
        """Changes whose effect on clients the spec cannot tell (oasdiff's WARN)."""
        return tuple(c for c in self.changes if c.level == WARN)

    @property
    def non_breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.level == NON_BREAKING)


def render(result: DiffResult, output_format: str) -> str:
    if output_format == "json":
        return render_json(result)
    if output_format == "markdown":
        return render_markdown(result)
    return render_text(result)


_TEXT_LEVEL = {BREAKING: "BREAKING", WARN: "WARN", NON_BREAKING: "non-breaking"}
_MARKDOWN_LEVEL = {BREAKING: "**breaking**", WARN: "*warn*", NON_BREAKING: "non-breaking"}


def _counts(result: DiffResult) -> str:
    """`B breaking, N non-breaking`, with `, W warn` between them when there are any."""
    warn = f", {len(result.warnings)} warn" if result.warnings else ""
    return f"{len(result.breaking)} breaking{warn}, {len(result.non_breaking)} non-breaking"


def _summary(result: DiffResult) -> str:
    return _counts(result) if result.changes else "no changes"


def render_text(result: DiffResult) -> str:
    lines = [f"contract diff {result.old} → {result.new}"]
    for change in result.changes:
        level = _TEXT_LEVEL[change.level]
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
            WARN: len(result.warnings),
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
    breaking, warn = len(result.breaking), len(result.warnings)
    if breaking:
        title = f"### :x: API contract: {breaking} breaking change{'s' * (breaking != 1)}"
    else:
        title = "### :white_check_mark: API contract: no breaking changes"
    counts = _counts(result).replace(f"{breaking} breaking", f"**{breaking} breaking**", 1)
    if warn:
        counts = counts.replace(f"{warn} warn", f"{warn} warn (the spec cannot tell)", 1)
    lines = [
        title,
        "",
        f"Comparing {_code(result.old)} → {_code(result.new)}: {counts}.",
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
        level = _MARKDOWN_LEVEL[change.level]
        operation = _code(change.operation) if change.operation else "(document)"
        row = (level, _code(change.id), operation, _cell(change.location), _cell(change.message))
        lines.append("| " + " | ".join(row) + " |")
    hidden = len(result.changes) - MARKDOWN_MAX_ROWS
    if hidden > 0:
        lines += ["", f"… and {hidden} more; run `contract diff --format json` for all of them."]
    return "\n".join(lines) + "\n"
