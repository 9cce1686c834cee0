"""Render a `RunResult`: the terminal summary, report.md, report.json and junit.xml.

Pure functions of the result (which is already redacted); only `write_reports` touches the disk.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET  # noqa: S405 - we only write XML, never parse it

from .results import UNTESTED_REASON, Finding, RunResult

Style = Callable[[str, str], str]


def plain(text: str, _: str) -> str:
    return text


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


def render_summary(result: RunResult, style: Style = plain) -> str:
    target = result.base_url + (" (embedded reference)" if result.embedded else "")
    phases = describe_phases(result)
    lines = [
        style(f"contract conform · {result.spec} · {target}", "bold"),
        f"seed {result.seed} · {len(result.coverage)} operations · {result.requests} requests · "
        f"phases: {phases} · {result.duration:.1f} s",
    ]
    if result.pins:
        lines.append(f"pinned: {', '.join(result.pins)}")
    lines += [
        "",
        "Coverage: responses seen per declared status",
    ]
    header = ["operation", *statuses(result), "undeclared"]
    lines += _table(header, coverage_rows(result), indent="  ")
    lines += stream_lines(result)
    if result.findings:
        lines += ["", style(f"Findings ({len(result.findings)})", "bold")]
        lines.append(
            "  (×N: the responses that failed the check the same way; the matrix counts all)"
        )
        for finding in result.sorted_findings():
            times = f" (×{finding.occurrences})" if finding.occurrences > 1 else ""
            first = finding.message.splitlines()[0] if finding.message else ""
            lines.append(
                f"  {finding.severity.upper():<8} {finding.check:<24} {finding.operation}: "
                f"{finding.title}: {first}{times}"
            )
    for error in result.errors:
        lines.append(style(f"error: {error}", "red"))
    for note in result.notes:
        lines.append(f"note: {note}")
    untested = result.untested()
    if untested and not result.blocked:
        lines.append(style(f"untested: {describe_untested(untested)}", "yellow"))
    if result.blocked:
        lines.append(style(f"not tested: {result.blocked}", "red"))
    lines.append("")
    count = len(result.findings)
    verdict = f"{result.verdict}: {count} finding{'' if count == 1 else 's'}"
    if result.errors:
        verdict += f", {len(result.errors)} error{'' if len(result.errors) == 1 else 's'}"
    if untested and not result.blocked:
        verdict += f", {len(untested)} of {len(result.coverage)} operations untested"
    colour = "green" if result.exit_code == 0 else "red"
    lines.append(style(verdict, colour))
    lines.append(f"reproduce: {result.command}")
    return "\n".join(lines)


def stream_rows(result: RunResult) -> list[list[str]]:
    """The stream table: operation, status, media type, read or link, how it went."""
    return [
        [row.operation, row.status, row.media_type, row.kind, row.outcome] for row in result.streams
    ]


def stream_lines(result: RunResult) -> list[str]:
    if not result.streams:
        return []
    header = ["operation", "status", "media type", "read", "outcome"]
    rows = stream_rows(result)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["", "Streams: read under the stream limits; ends-stream links followed"]
    for row in [header, *rows]:
        lines.append(
            "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        )
    return lines


def describe_untested(labels: list[str]) -> str:
    """The operations that never answered a declared 2xx: what passed there was only errors."""
    one = len(labels) == 1
    return (
        f"{len(labels)} operation{'' if one else 's'} never answered a declared 2xx, "
        f"so only {'its' if one else 'their'} error answers were checked: {', '.join(labels)}"
    )


def _table(header: list[str], rows: list[list[str]], indent: str = "") -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = []
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        out.append(indent + "  ".join(cells).rstrip())
    return out


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
    lines += [
        "| | |",
        "| --- | --- |",
        f"| server | `{target}` |",
        f"| seed | `{result.seed}` |",
        f"| reproduce | `{result.command}` |",
        f"| requests | {result.requests} in {result.duration:.1f} s |",
        f"| phases | {describe_phases(result)} |",
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
            lines.append(f"| `{cells[0]}` | {cells[1]} | `{cells[2]}` | {cells[3]} | {cells[4]} |")
    lines += ["", "## Findings", ""]
    if not result.findings:
        lines.append("None.")
    for number, finding in enumerate(result.sorted_findings(), start=1):
        lines += _markdown_finding(number, finding, result.seed)
    if result.errors or result.notes:
        lines += ["", "## Errors and notes", ""]
        lines += [f"- error: {e}" for e in result.errors]
        lines += [f"- note: {n}" for n in result.notes]
    return "\n".join(lines) + "\n"


def _markdown_finding(number: int, finding: Finding, seed: int) -> list[str]:
    times = f"seen {finding.occurrences}×" if finding.occurrences > 1 else "seen once"
    lines = [
        f"### {number}. `{finding.check}`: {finding.title}",
        "",
        f"- operation: `{finding.operation}`",
        f"- severity: {finding.severity} · {times} · phase: {finding.phase} · code {finding.code}"
        f" · seed {seed}",
        "",
        "~~~",
        finding.message,
        "~~~",
    ]
    exchange = finding.exchange
    if exchange is not None:
        lines += ["", "Reproduce:", "", "~~~sh", exchange.curl(), "~~~"]
        if exchange.status is None:
            lines += ["", "Response: none."]
        else:
            content_type = exchange.content_type() or "no Content-Type"
            lines += ["", f"Response: `{exchange.status}` `{content_type}`", "", "~~~"]
            lines += [exchange.excerpt() or "(empty body)", "~~~"]
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
    return data


def render_junit(result: RunResult) -> str:
    """One testcase per operation × check; a failure element per finding of that pair."""
    grouped = result.findings_by_check()
    suite = ET.Element(
        "testsuite",
        name="contract conform",
        tests=str(len(result.coverage) * len(result.checks)),
        failures=str(len(grouped)),
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
            for finding in found:
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
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_reports(result: RunResult, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("junit.xml", render_junit(result)),
        ("report.md", render_markdown(result)),
        ("report.json", render_json(result)),
    ):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
