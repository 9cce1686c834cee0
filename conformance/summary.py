"""The terminal summary of a run: header, coverage matrix, findings, errors, verdict.

It fits the width it is given. The coverage matrix keeps a column per declared status while that
fits; with many statuses (Agno's document declares 13) it folds into one row per operation that
lists what was seen, what never was and what was not declared. The reports keep the full matrix.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from generator.terminal.text import printable, render, shell_lines

from .report import coverage_rows, describe_phases, describe_untested, statuses, stream_rows
from .results import RunResult
from .unavailable import describe_unavailable

INDENT = "  "
UNTESTED_SHOWN = 6  # operations named in the untested line; the reports name them all


def render_summary(result: RunResult, *, width: int = 100, colour: bool = False) -> str:
    """The summary as lines of at most `width` columns (colour only when `colour`)."""
    return render(_summary(result, width), width=width, colour=colour)


def _summary(result: RunResult, width: int) -> Iterator[RenderableType]:
    target = result.base_url + (" (embedded reference)" if result.embedded else "")
    yield Text(printable(f"contract conform · {result.spec} · {target}"), style="bold")
    yield Text(
        f"seed {result.seed} · {len(result.coverage)} operations · {result.requests} requests · "
        f"phases: {describe_phases(result)} · {result.duration:.1f} s"
    )
    if result.pins:
        yield Text(printable(f"pinned: {', '.join(result.pins)}"))
    if result.shard:
        yield Text(f"shard: {result.shard} (of the operations, sorted)")
    yield Text(f"score: {result.score().text()}")
    yield Text("")
    yield Text("Coverage: responses seen per declared status")
    yield from _matrix(result, width)
    if result.streams:
        yield Text("")
        yield Text("Streams: read under the stream limits; ends-stream links followed")
        yield from _streams(result)
    if result.findings:
        yield Text("")
        yield Text(f"Findings ({len(result.findings)})", style="bold")
        yield _indented(
            Text(
                "(×N: the responses that failed the check the same way; the matrix counts all; "
                "`contract explain CODE` says what a code means and how to fix it)"
            )
        )
        yield _findings(result)
    for error in result.errors:
        yield Text(printable(f"error: {error}"), style="red")
    for gate in result.gate_failures:
        yield Text(printable(f"gate: {gate}"), style="red")
    for note in result.notes:
        yield Text(printable(f"note: {note}"))
    untested = result.untested()
    if untested and not result.blocked:
        described = describe_untested(untested, UNTESTED_SHOWN)
        yield Text(printable(f"untested: {described}"), style="yellow")
    if result.unavailable:
        described = describe_unavailable(result.unavailable, UNTESTED_SHOWN)
        yield Text(printable(f"unavailable: {described}"), style="yellow")
    if result.blocked:
        yield Text(printable(f"not tested: {result.blocked}"), style="red")
    yield Text("")
    count = len(result.findings)
    verdict = f"{result.verdict}: {count} finding{'' if count == 1 else 's'}"
    known = count - len(result.new_findings)
    if known:
        verdict += f" ({known} known, {count - known} new)"
    if result.errors:
        verdict += f", {len(result.errors)} error{'' if len(result.errors) == 1 else 's'}"
    if untested and not result.blocked:
        verdict += f", {len(untested)} of {len(result.coverage)} operations untested"
    yield Text(verdict, style="green" if result.exit_code == 0 else "red")
    for line in shell_lines("reproduce: ", printable(result.command), width):
        yield Text(line, overflow="ignore", no_wrap=True)


def _matrix(result: RunResult, width: int) -> Iterator[RenderableType]:
    header = ["operation", *statuses(result), "undeclared"]
    rows = [[printable(cell) for cell in row] for row in coverage_rows(result)]
    lines = wide_matrix(header, rows)
    if max(len(line) for line in lines) <= width:
        yield from (Text(line) for line in lines)
        return
    yield from folded_matrix(result, width)


def wide_matrix(header: list[str], rows: list[list[str]]) -> list[str]:
    """A column per declared status, counts right-aligned: the matrix as the reports have it."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = []
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        out.append(INDENT + "  ".join(cells).rstrip())
    return out


def folded_matrix(result: RunResult, width: int) -> Iterator[RenderableType]:
    """One row per operation: statuses seen (with counts), never seen, undeclared."""
    yield _indented(
        Text(
            f"({len(statuses(result))} declared statuses, folded to fit: seen as status×count; "
            "the reports have the full matrix)"
        )
    )
    table = Table(box=None, pad_edge=False, padding=(0, 1), show_edge=False)
    available = width - len(INDENT) - 6  # three two-column gaps
    longest = max((len(label) for label in result.coverage), default=9)
    # The operation gets up to half the width; the status lists wrap between entries.
    operation = min(longest, available // 2)
    rest = available - operation
    undeclared = max(len("undeclared"), rest // 5)
    seen = (rest - undeclared) * 3 // 5
    never = rest - undeclared - seen
    table.add_column("operation", overflow="fold", width=operation)
    table.add_column("seen", overflow="fold", width=seen)
    table.add_column("never seen", overflow="fold", width=never, style="yellow")
    table.add_column("undeclared", overflow="fold", width=undeclared, style="red")
    for row in result.coverage.values():
        counts = " ".join(f"{key}×{row.seen[key]}" for key in row.declared if row.seen.get(key))
        other = " ".join(f"{s}×{n}" for s, n in sorted(row.undeclared.items()))
        table.add_row(printable(row.label), counts or "-", " ".join(row.never_seen()) or "-", other)
    yield _indented(table)


def _streams(result: RunResult) -> Iterator[RenderableType]:
    """A line per stream (operation, status, media type), then each read of it, indented."""
    reads: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for operation, status, media_type, kind, outcome in stream_rows(result):
        reads.setdefault((operation, status, media_type), []).append((kind, outcome))
    for (operation, status, media_type), done in reads.items():
        yield _indented(Text(printable(f"{operation} {status} {media_type}")))
        for kind, outcome in done:
            # A link's outcome starts with the link's name: `link NAME: passed, ...`.
            line = f"link {outcome}" if kind.startswith("link ") else f"{kind}: {outcome}"
            yield Padding(Text(printable(line)), (0, 0, 0, 2 * len(INDENT)))


def _findings(result: RunResult) -> RenderableType:
    table = Table(box=None, pad_edge=False, padding=(0, 1), show_header=False, show_edge=False)
    table.add_column("code", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("finding", overflow="fold")
    for finding in result.sorted_findings():
        times = f" (×{finding.occurrences})" if finding.occurrences > 1 else ""
        times += " (known: in the baseline)" if finding.known else ""
        first = headline(finding.message)
        table.add_row(
            finding.code,
            Text(finding.severity.upper(), style=_SEVERITY_STYLE.get(finding.severity, "")),
            printable(f"{finding.check} · {finding.operation}: {finding.title}: {first}{times}"),
        )
    return _indented(table)


def headline(message: str) -> str:
    """The first line of a message, with the next one when it only announces it ("…:")."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    if lines[0].endswith(":") and len(lines) > 1:
        return f"{lines[0]} {lines[1]}"
    return lines[0]


_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": ""}


def _indented(renderable: RenderableType) -> RenderableType:
    return Padding(renderable, (0, 0, 0, len(INDENT)))
