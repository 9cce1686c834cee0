"""Render a `RunResult` into the reports: report.md, report.json and junit.xml.

(The terminal summary is `conformance.summary`.)

Pure functions of the result (which is already redacted); only `write_reports` touches the disk.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET  # noqa: S405 - we only write XML, never parse it

from generator.terminal.text import printable

from .gates import stable_key
from .results import UNTESTED_REASON, Finding, RunResult
from .unavailable import describe_unavailable


def describe_phases(result: RunResult) -> str:
    """`examples, coverage, fuzzing, stateful; free values: examples, …; probes`."""
    pinned = [p for p in result.phases if not p.endswith(" (free values)")]
    free = [p.removesuffix(" (free values)") for p in result.phases if p not in pinned]
    parts = [", ".join(pinned)] if pinned else []
    if free:
        parts.append("free values: " + ", ".join(free))
    return "; ".join([*parts, "probes"])


def statuses(result: RunResult) -> list[str]:
    """Every declared status key across operations, in numeric order, `default` last."""
    keys = {key for row in result.coverage.values() for key in row.declared}
    return sorted(keys, key=lambda k: (k == "default", k.upper().replace("X", "0"), k))


def coverage_rows(result: RunResult) -> list[list[str]]:
    """The coverage matrix as text cells: a count, "never seen", or "" where not declared."""
    columns = statuses(result)
    rows = []
    for label, row in result.coverage.items():
        cells = [label]
        for key in columns:
            if key not in row.declared:
                cells.append("")
            else:
                seen = row.seen.get(key, 0)
                cells.append(str(seen) if seen else "never seen")
        undeclared = ", ".join(f"{s} ×{n}" for s, n in sorted(row.undeclared.items()))
        cells.append(undeclared)
        rows.append(cells)
    return rows


def stream_rows(result: RunResult) -> list[list[str]]:
    """The stream table: operation, status, media type, read or link, how it went."""
    return [
        [row.operation, row.status, row.media_type, row.kind, row.outcome] for row in result.streams
    ]


def describe_untested(labels: list[str], limit: int | None = None) -> str:
    """The operations that never answered a declared 2xx: what passed there was only errors.

    With `limit`, the first `limit` labels and how many more (the terminal; reports list all).
    """
    one = len(labels) == 1
    shown = labels if limit is None or len(labels) <= limit else labels[:limit]
    listed = ", ".join(shown)
    if len(shown) < len(labels):
        listed += f" and {len(labels) - len(shown)} more (the reports list them all)"
    return (
        f"{len(labels)} operation{'' if one else 's'} never answered a declared 2xx, "
        f"so only {'its' if one else 'their'} error answers were checked: {listed}"
    )


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md_text(text: str) -> str:
    """`text` (already printable) as literal Markdown inline text: specials escaped, one line."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.splitlines()))


def md_code(text: str) -> str:
    """`text` as a code span, or as escaped text where a backtick would end the span."""
    one_line = " ".join(text.splitlines())
    return md_text(one_line) if "`" in one_line else f"`{one_line}`"


def fenced(text: str, info: str = "") -> list[str]:
    """`text` in a fenced block no line of it can close: the fence outruns its longest `~` run."""
    longest = max((len(run) for run in re.findall(r"~+", text)), default=0)
    fence = "~" * max(3, longest + 1)
    return [fence + info, text, fence]


def render_markdown(result: RunResult) -> str:
    target = result.base_url + " (embedded reference)" if result.embedded else result.base_url
    count = len(result.findings)
    lines = [
        f"# Conformance report: `{result.spec}`",
        "",
        f"**{result.verdict}**: {count} finding{'' if count == 1 else 's'}, "
        f"{len(result.errors)} errors.",
        "",
    ]
    if result.blocked:
        lines += [f"**Not tested:** {result.blocked}.", ""]
    elif result.untested():
        lines += [f"**Untested:** {describe_untested(result.untested())}.", ""]
    if result.unavailable:
        lines += [f"**Unavailable:** {describe_unavailable(result.unavailable)}.", ""]
    lines += [
        "| | |",
        "| --- | --- |",
        f"| server | `{target}` |",
        f"| seed | `{result.seed}` |",
        f"| reproduce | `{result.command}` |",
        f"| requests | {result.requests} in {result.duration:.1f} s |",
        f"| phases | {describe_phases(result)} |",
        f"| score | {result.score().text()} |",
        f"| pinned | {', '.join(f'`{pin}`' for pin in result.pins) or 'nothing'} |",
        f"| max examples | {result.max_examples} per operation and phase |",
        f"| request timeout | {result.request_timeout:g} s |",
        f"| checks | {', '.join(f'`{c}`' for c in result.checks)} |",
        "",
        "## Coverage matrix",
        "",
        "Responses seen per operation and declared status (an empty cell: not declared). A "
        "finding's count is the responses that failed its check the same way.",
        "",
    ]
    header = ["operation", *statuses(result), "undeclared seen"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("| --- |" + " ---: |" * (len(header) - 2) + " --- |")
    for row in coverage_rows(result):
        cells = [f"`{row[0]}`", *(c.replace("never seen", "**never seen**") for c in row[1:])]
        lines.append("| " + " | ".join(cells) + " |")
    if result.streams:
        lines += ["", "## Streams", "", "| operation | status | media type | read | outcome |"]
        lines.append("| --- | --- | --- | --- | --- |")
        for cells in stream_rows(result):
            operation, status, media_type, kind, outcome = (printable(c) for c in cells)
            lines.append(
                f"| {md_code(operation)} | {md_text(status)} | {md_code(media_type)} "
                f"| {md_text(kind)} | {md_text(outcome)} |"
            )
    lines += ["", "## Findings", ""]
    if not result.findings:
        lines.append("None.")
    for number, finding in enumerate(result.sorted_findings(), start=1):
        lines += _markdown_finding(number, finding, result.seed)
    if result.errors or result.notes:
        lines += ["", "## Errors and notes", ""]
        lines += [f"- error: {md_text(e)}" for e in result.errors]
        lines += [f"- note: {md_text(n)}" for n in result.notes]
    return "\n".join(lines) + "\n"


def _markdown_finding(number: int, finding: Finding, seed: int) -> list[str]:
    times = f"seen {finding.occurrences}×" if finding.occurrences > 1 else "seen once"
    lines = [
        f"### {number}. `{finding.check}`: {md_text(finding.title)}",
        "",
        f"- operation: `{finding.operation}`",
        f"- severity: {finding.severity} · {times} · phase: {finding.phase} · code {finding.code}"
        f" (`contract explain {finding.code}`)"
        f" · seed {seed}",
        "",
        *fenced(finding.message),
    ]
    exchange = finding.exchange
    if exchange is not None:
        lines += ["", "Reproduce:", "", *fenced(exchange.curl(), "sh")]
        if exchange.status is None:
            lines += ["", "Response: none."]
        else:
            content_type = md_code(exchange.content_type() or "no Content-Type")
            lines += ["", f"Response: `{exchange.status}` {content_type}", ""]
            lines += fenced(exchange.excerpt() or "(empty body)")
    lines.append("")
    return lines


def render_json(result: RunResult) -> str:
    data: dict[str, Any] = {
        "spec": result.spec,
        "base_url": result.base_url,
        "embedded_reference": result.embedded,
        "verdict": result.verdict,
        "exit_code": result.exit_code,
        "not_tested": result.blocked,
        "untested_operations": result.untested(),
        "unavailable_operations": dict(sorted(result.unavailable.items())),
        "score": result.score().as_json(),
        "new_findings": len(result.new_findings),
        "gate_failures": result.gate_failures,
        "shard": result.shard,
        "seed": result.seed,
        "pinned": list(result.pins),
        "reproduce": result.command,
        "max_examples": result.max_examples,
        "workers": result.workers,
        "request_timeout": result.request_timeout,
        "requests": result.requests,
        "duration_seconds": round(result.duration, 3),
        "phases": [*result.phases, "probes"],
        "checks": list(result.checks),
        "coverage": [
            {
                "operation": row.label,
                "declared": list(row.declared),
                "seen": {key: row.seen.get(key, 0) for key in row.declared},
                "never_seen": row.never_seen(),
                "undeclared_seen": {str(s): n for s, n in sorted(row.undeclared.items())},
                "requests": row.requests,
                "tested": row.tested,
            }
            for row in result.coverage.values()
        ],
        "streams": [
            {
                "operation": row.operation,
                "status": row.status,
                "media_type": row.media_type,
                "read": row.kind,
                "outcome": row.outcome,
            }
            for row in result.streams
        ],
        "findings": [_json_finding(f) for f in result.sorted_findings()],
        "errors": result.errors,
        "notes": result.notes,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _json_finding(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "check": finding.check,
        "operation": finding.operation,
        "title": finding.title,
        "message": finding.message,
        "severity": finding.severity,
        "code": finding.code,
        "key": finding.key,
        "phase": finding.phase,
        "occurrences": finding.occurrences,
        "known": finding.known,
        "stable_key": stable_key(finding),
    }
    exchange = finding.exchange
    if exchange is not None:
        data["curl"] = exchange.curl()
        data["request"] = {"method": exchange.method, "url": exchange.url}
        data["response"] = (
            None
            if exchange.status is None
            else {
                "status": exchange.status,
                "content_type": exchange.content_type(),
                "excerpt": exchange.excerpt(),
                "size": exchange.response_size,
            }
        )
        data["exchange"] = exchange.as_json()
    return data


def render_junit(result: RunResult) -> str:
    """One testcase per operation × check; a failure element per finding of that pair."""
    grouped = result.findings_by_check()
    suite = ET.Element(
        "testsuite",
        name="contract conform",
        tests=str(len(result.coverage) * len(result.checks)),
        failures=str(
            sum(1 for found in grouped.values() if any(not f.known for f in found))
            + len(result.gate_failures)
        ),
        errors=str(len(result.errors)),
        time=f"{result.duration:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("spec", result.spec),
        ("base_url", result.base_url),
        ("seed", str(result.seed)),
        ("reproduce", result.command),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    untested = set(result.untested())
    skipped = result.blocked or UNTESTED_REASON
    for operation in result.coverage:
        for check in result.checks:
            case = ET.SubElement(suite, "testcase", classname=operation, name=check)
            found = grouped.get((operation, check), [])
            if not found and (result.blocked or operation in untested):
                ET.SubElement(case, "skipped", message=f"not tested: {skipped}")
            new = [finding for finding in found if not finding.known]
            if found and not new:
                ET.SubElement(case, "skipped", message="known findings only (in the baseline)")
            for finding in new:
                failure = ET.SubElement(case, "failure", message=finding.title, type=finding.code)
                details = [
                    finding.message,
                    f"severity: {finding.severity}",
                    f"occurrences: {finding.occurrences}",
                    f"seed: {result.seed}",
                ]
                if finding.exchange is not None:
                    details.append(f"reproduce: {finding.exchange.curl()}")
                failure.text = "\n".join(details)
    for error in result.errors:
        ET.SubElement(
            ET.SubElement(suite, "testcase", classname="run", name="error"), "error", message=error
        )
    for gate in result.gate_failures:
        ET.SubElement(
            ET.SubElement(suite, "testcase", classname="run", name="gate"),
            "failure",
            message=gate,
            type="gate",
        )
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_reports(result: RunResult, folder: Path) -> list[Path]:
    from .html_report import render_html  # it imports this module's helpers

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("junit.xml", render_junit(result)),
        ("report.md", render_markdown(result)),
        ("report.json", render_json(result)),
        ("report.html", render_html(result)),
    ):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
