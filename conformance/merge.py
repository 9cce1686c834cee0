"""`contract report merge DIR... --out DIR`: one report from the report folders of sharded runs.

Each folder holds the `report.json` of one `contract conform --shard K/N --report DIR` run. The
merged result has the coverage matrix and findings of the whole API: coverage rows side by side
(an operation in two folders has its counts added), findings de-duplicated by (operation, check,
code, key) with their occurrences added, errors and notes joined. Requests add up; the duration
is the slowest shard's (the shards run in parallel). A shard of the same N that no folder holds
is an error (exit 2 unless there are findings): the merged report would silently lack it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from generator.spec.errors import UsageError

from .gates import apply_gates
from .report import write_reports
from .results import Exchange, Finding, OperationCoverage, RunResult


def merge_folders(folders: Sequence[Path], out: Path, *, fail_under: float | None) -> RunResult:
    """Read, merge and write; UsageError for a folder without a readable report.json."""
    if not folders:
        raise UsageError("contract report merge: name at least one report folder")
    merged = merge([read_result(folder) for folder in folders])
    apply_gates(merged, baseline=None, fail_under=fail_under)
    try:
        write_reports(merged, out)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write reports ({exc.strerror or exc})") from None
    return merged


def read_result(folder: Path) -> RunResult:
    path = folder / "report.json"
    try:
        data = json.loads(path.read_text("utf-8"))
        return result_from_json(data)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        kind = type(exc).__name__
        raise UsageError(f"{path}: not a report.json of contract conform ({kind})") from None


def result_from_json(data: Mapping[str, Any]) -> RunResult:
    """The `RunResult` a report.json was rendered from, as far as it says."""
    phases = [str(p) for p in data["phases"] if p != "probes"]
    result = RunResult(
        spec=str(data["spec"]),
        base_url=str(data["base_url"]),
        seed=int(data["seed"]),
        max_examples=int(data["max_examples"]),
        workers=int(data["workers"]),
        request_timeout=float(data["request_timeout"]),
        checks=tuple(str(c) for c in data["checks"]),
        phases=phases,
        errors=[str(e) for e in data["errors"]],
        notes=[str(n) for n in data["notes"]],
        requests=int(data["requests"]),
        duration=float(data["duration_seconds"]),
        embedded=bool(data["embedded_reference"]),
        command=str(data["reproduce"]),
        pins=tuple(str(p) for p in data["pinned"]),
        blocked=data["not_tested"],
        shard=data.get("shard"),
        unavailable={str(k): int(v) for k, v in data.get("unavailable_operations", {}).items()},
    )
    for row in data["coverage"]:
        coverage = OperationCoverage(
            label=str(row["operation"]),
            declared=tuple(str(k) for k in row["declared"]),
            seen={str(k): int(n) for k, n in row["seen"].items() if n},
            undeclared={int(s): int(n) for s, n in row["undeclared_seen"].items()},
            requests=int(row["requests"]),
        )
        result.coverage[coverage.label] = coverage
    for item in data["findings"]:
        exchange = item.get("exchange")
        result.findings.append(
            Finding(
                check=str(item["check"]),
                operation=str(item["operation"]),
                title=str(item["title"]),
                message=str(item["message"]),
                severity=str(item["severity"]),
                code=str(item["code"]),
                key=str(item["key"]),
                phase=str(item["phase"]),
                exchange=Exchange.from_json(exchange) if exchange is not None else None,
                occurrences=int(item["occurrences"]),
                known=bool(item.get("known", False)),
            )
        )
    return result


def merge(results: Sequence[RunResult]) -> RunResult:
    first = results[0]
    merged = RunResult(
        spec=first.spec,
        base_url=first.base_url,
        seed=first.seed,
        max_examples=first.max_examples,
        workers=first.workers,
        request_timeout=first.request_timeout,
        checks=first.checks,
        phases=_union(p for r in results for p in r.phases),
        embedded=first.embedded,
        command=re.sub(r" --shard \S+", "", first.command),
        pins=first.pins,
    )
    by_identity: dict[tuple[str, str, str, str], Finding] = {}
    for result in results:
        merged.requests += result.requests
        merged.duration = max(merged.duration, result.duration)
        merged.stateful = merged.stateful or result.stateful
        for label, row in result.coverage.items():
            _add_row(merged.coverage, label, row)
        for finding in result.findings:
            known = by_identity.get(finding.identity)
            if known is None:
                by_identity[finding.identity] = finding
                merged.findings.append(finding)
            else:
                known.occurrences += finding.occurrences
        for label, count in result.unavailable.items():
            merged.unavailable[label] = merged.unavailable.get(label, 0) + count
        if result.blocked and merged.blocked is None:
            merged.blocked = f"shard {result.shard or '?'}: {result.blocked}"
    merged.errors = _union(e for r in results for e in r.errors)
    merged.notes = _union(n for r in results for n in r.notes)
    merged.errors += _consistency(results)
    shards = ", ".join(r.shard or "all" for r in results)
    merged.notes.append(f"merged from {len(results)} reports (shards: {shards})")
    return merged


def _add_row(coverage: dict[str, OperationCoverage], label: str, row: OperationCoverage) -> None:
    mine = coverage.get(label)
    if mine is None:
        coverage[label] = OperationCoverage(
            label, row.declared, dict(row.seen), dict(row.undeclared), row.requests
        )
        return
    mine.requests += row.requests
    for key, count in row.seen.items():
        mine.seen[key] = mine.seen.get(key, 0) + count
    for status, count in row.undeclared.items():
        mine.undeclared[status] = mine.undeclared.get(status, 0) + count


def _consistency(results: Sequence[RunResult]) -> list[str]:
    """What makes the merged report not the whole API: other specs, missing shards."""
    problems = []
    specs = {r.spec for r in results}
    if len(specs) > 1:
        problems.append(f"the reports are of different specs: {', '.join(sorted(specs))}")
    shards = [r.shard for r in results if r.shard]
    totals = {int(s.split("/")[1]) for s in shards}
    if len(totals) > 1:
        problems.append(f"the shards split the operations differently: {', '.join(shards)}")
    elif totals:
        (total,) = totals
        held = {int(s.split("/")[0]) for s in shards}
        missing = [f"{k}/{total}" for k in range(1, total + 1) if k not in held]
        if missing:
            problems.append(f"shards missing from the merge: {', '.join(missing)}")
    return problems


def _union(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
