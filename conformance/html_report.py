"""report.html: one offline page (inline CSS and JS, nothing fetched) for people to look at.

The coverage matrix as a heat map of operation × declared status, the findings grouped by check
with their curl lines, filters by check and operation. Everything from the run (and so from the
server) is escaped by Jinja2's autoescape, with control characters written as `\\x1b`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import jinja2

from generator.terminal.text import printable

from .explain import explanations
from .report import describe_phases, statuses
from .results import Finding, OperationCoverage, RunResult
from .unavailable import describe_unavailable

LEVELS = 5  # heat-map shades of a seen status; 0 is "declared, never seen"


@dataclass(frozen=True, slots=True)
class Cell:
    kind: str  # "absent" (not declared), "never" (declared, never seen), "seen"
    count: int = 0
    level: int = 0


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    cells: list[Cell]
    undeclared: str
    tested: bool
    findings: int
    checks: str  # the checks with findings here, space-separated, for the check filter


@dataclass(frozen=True, slots=True)
class Group:
    check: str
    codes: list[str]
    findings: list[Finding]


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("conformance", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters["printable"] = printable
    return environment


def render_html(result: RunResult) -> str:
    columns = statuses(result)
    peak = max((n for row in result.coverage.values() for n in row.seen.values()), default=1)
    per_operation: dict[str, int] = {}
    checks_of: dict[str, set[str]] = {}
    for finding in result.findings:
        per_operation[finding.operation] = per_operation.get(finding.operation, 0) + 1
        checks_of.setdefault(finding.operation, set()).add(finding.check)
    rows = [
        Row(
            label=row.label,
            cells=[_cell(row, key, peak) for key in columns],
            undeclared=" ".join(f"{s}×{n}" for s, n in sorted(row.undeclared.items())),
            tested=row.tested,
            findings=per_operation.get(row.label, 0),
            checks=" ".join(sorted(checks_of.get(row.label, ()))),
        )
        for row in result.coverage.values()
    ]
    known = explanations()
    return (
        _environment()
        .get_template("report.html.jinja")
        .render(
            result=result,
            columns=columns,
            rows=rows,
            groups=_groups(result),
            phases=describe_phases(result),
            untested=result.untested(),
            unavailable=describe_unavailable(result.unavailable) if result.unavailable else "",
            titles={code: e.title for code, e in known.items()},
            check_titles={e.check: e.title for e in known.values()},
            levels=LEVELS,
        )
    )


def _cell(row: OperationCoverage, key: str, peak: int) -> Cell:
    if key not in row.declared:
        return Cell("absent")
    count = row.seen.get(key, 0)
    if not count:
        return Cell("never")
    # Log scale: one response and a thousand should both be visible.
    level = 1 + int((LEVELS - 1) * math.log(count) / math.log(peak)) if peak > 1 else LEVELS
    return Cell("seen", count, min(level, LEVELS))


def _groups(result: RunResult) -> list[Group]:
    by_check: dict[str, list[Finding]] = {}
    for finding in result.sorted_findings():
        by_check.setdefault(finding.check, []).append(finding)
    order = {check: number for number, check in enumerate(result.checks)}
    return [
        Group(check, sorted({f.code for f in found}), found)
        for check, found in sorted(by_check.items(), key=lambda item: order.get(item[0], 99))
    ]
