"""CI gates on a finished run: the conformance score, `--fail-under`, and the baseline.

The score itself is `RunResult.score()`; `--fail-under PCT` fails a run whose declared-status
coverage is under PCT percent.

A baseline file (`--write-baseline FILE`) holds the stable key of every finding of a run; a run
with `--baseline FILE` fails only on findings whose key it does not hold. The key is the finding's
code, operation and status or reason, never the example that showed it, so it survives a rerun
with another seed: `CT101 GET /workflows 409`.
"""

from __future__ import annotations

import json
from pathlib import Path

from generator.spec.errors import UsageError

from .results import Finding, RunResult

BASELINE_FORMAT = "contract-conform-baseline/1"
# Codes whose key names the example (which parameter was negated, which schema path failed first)
# beyond its status: the baseline keeps only the part before the example.
_KEY_PARTS = {"CT103": 2, "CT109": 0}


def stable_key(finding: Finding) -> str:
    """What identifies a finding across runs: code, operation, status or reason."""
    parts = _KEY_PARTS.get(finding.code)
    reason = finding.key if parts is None else ":".join(finding.key.split(":")[:parts])
    return " ".join(part for part in (finding.code, finding.operation, reason) if part)


def read_baseline(path: Path) -> frozenset[str]:
    """The keys a baseline file holds; UsageError when it is not one."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise UsageError(f"--baseline {path}: cannot read it ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UsageError(f"--baseline {path}: not JSON") from None
    if not isinstance(data, dict) or data.get("format") != BASELINE_FORMAT:
        raise UsageError(f"--baseline {path}: not a baseline file ({BASELINE_FORMAT})")
    keys = data.get("findings")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise UsageError(f"--baseline {path}: `findings` must be a list of keys")
    return frozenset(keys)


def render_baseline(result: RunResult) -> str:
    keys = sorted({stable_key(finding) for finding in result.findings})
    data = {"format": BASELINE_FORMAT, "spec": result.spec, "findings": keys}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def apply_gates(
    result: RunResult, *, baseline: frozenset[str] | None, fail_under: float | None
) -> None:
    """Mark the findings the baseline holds as known, and note a status coverage under the bar."""
    if baseline is not None:
        for finding in result.findings:
            finding.known = stable_key(finding) in baseline
    statuses = result.score().statuses
    if fail_under is not None and statuses.percent < fail_under:
        result.gate_failures.append(
            f"declared statuses exercised {statuses.percent:.1f}% is under "
            f"--fail-under {fail_under:g}%"
        )
