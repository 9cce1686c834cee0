"""Operations the server says it cannot serve: 503 Service Unavailable is not a finding.

A deployment serves what it was configured with: Agno's offline AgentOS has no knowledge base
and no queue, and answers their operations 503. Conformance cannot judge what the server
declines to do, so a 503 answer is set aside per operation (reported as unavailable, with its
count) instead of being a `no_server_error` or `declared_status` finding. Every other answer of
that operation is still checked: a 500 next to the 503s stays a finding. A run in which every
operation answered only 503 tested nothing (runner.nothing_available).
"""

from __future__ import annotations

from .results import RunResult

UNAVAILABLE = "503"
# The checks a 503 answer fails by its status alone (5xx, or a status the operation omits).
_BY_STATUS = frozenset({"no_server_error", "declared_status"})


def set_aside_unavailable(result: RunResult) -> None:
    """Move the findings that are only a 503 answer into `result.unavailable`."""
    kept = []
    for finding in result.findings:
        if finding.check in _BY_STATUS and finding.key == UNAVAILABLE:
            seen = result.unavailable.get(finding.operation, 0)
            result.unavailable[finding.operation] = max(seen, finding.occurrences)
        else:
            kept.append(finding)
    result.findings = kept


def describe_unavailable(unavailable: dict[str, int], limit: int | None = None) -> str:
    """`N operations answered 503 ...: A (×3), B (×12)`, the first `limit` of them."""
    labels = sorted(unavailable)
    shown = labels if limit is None else labels[:limit]
    listed = ", ".join(f"{label} (×{unavailable[label]})" for label in shown)
    if len(shown) < len(labels):
        listed += f" and {len(labels) - len(shown)} more (the reports list them all)"
    one = len(labels) == 1
    return (
        f"{len(labels)} operation{'' if one else 's'} answered 503 Service Unavailable: the "
        f"server cannot serve {'it' if one else 'them'} as deployed, so those answers are not "
        f"findings: {listed}"
    )
