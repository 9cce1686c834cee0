"""Every deliberately broken STREAMING server is caught by the right stream check; the good one
passes, with its stream read and its ends-stream link followed (tests/broken/stream_*.py).

Each case starts the server with real uvicorn on 127.0.0.1 and runs `contract conform --url`
against `tests/broken/stream_contract.yaml`, with small stream limits so that an endless stream
is cut within them. `allowed` is every check that may fire on that server: Schemathesis' own
response validation (`declared_schema`) sees a wrong SSE item too, so it may join in there.
"""

from __future__ import annotations

import pytest

from tests.support.outcomes import ConformOutcomes
from tests.support.server import REPO

pytestmark = pytest.mark.slow

STREAM_CONTRACT = REPO / "tests" / "broken" / "stream_contract.yaml"
LIMITS = ("--stream-timeout", "2", "--stream-max-events", "40")
RUNS = "POST /workflows/{workflow_id}/runs"
LOG = "GET /workflows/{workflow_id}/log"

CATCH_TABLE = [
    # (server, check that must catch it, its code, operation, checks allowed to fire)
    ("stream_cancel_ignored", "stream_ends_on_link", "CT116", RUNS, {"stream_ends_on_link"}),
    ("stream_bad_data", "stream_items", "CT112", RUNS, {"stream_items", "declared_schema"}),
    ("stream_bad_framing", "stream_framing", "CT111", RUNS, {"stream_framing"}),
    ("stream_jsonl_not_json", "stream_items", "CT112", LOG, {"stream_items"}),
    ("stream_endless", "stream_limits", "CT114", RUNS, {"stream_limits"}),
    (
        "stream_undeclared_event",
        "stream_event_names",
        "CT113",
        RUNS,
        {"stream_event_names", "declared_schema"},
    ),
]


@pytest.mark.parametrize(
    ("server", "check", "code", "operation", "allowed"),
    CATCH_TABLE,
    ids=[row[0] for row in CATCH_TABLE],
)
def test_broken_streaming_server_is_caught_by_the_right_check(
    server: str,
    check: str,
    code: str,
    operation: str,
    allowed: set[str],
    conform_outcomes: ConformOutcomes,
) -> None:
    outcome = conform_outcomes.get(server, *LIMITS, spec=STREAM_CONTRACT)
    assert outcome.returncode == 1, outcome.stdout + outcome.stderr
    findings = outcome.report()["findings"]
    assert (check, code, operation) in {(f["check"], f["code"], f["operation"]) for f in findings}
    assert outcome.checks() <= allowed, f"unexpected findings: {outcome.checks() - allowed}"
    assert check in outcome.stdout
    assert "NOT CONFORMANT" in outcome.stdout


def test_good_streaming_server_passes_with_its_stream_read_and_cancelled(
    conform_outcomes: ConformOutcomes,
) -> None:
    outcome = conform_outcomes.get("stream_good", *LIMITS, spec=STREAM_CONTRACT)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    report = outcome.report()
    assert report["findings"] == []
    assert report["errors"] == []
    assert {"stream_ends_on_link", "stream_items", "stream_framing"} <= set(report["checks"])
    rows = {(s["operation"], s["media_type"], s["read"]): s["outcome"] for s in report["streams"]}
    assert rows[(RUNS, "text/event-stream", "read")].endswith("items, ended")
    assert rows[(LOG, "application/jsonl", "read")] == "2 items, ended"
    link = rows[(RUNS, "text/event-stream", "link CancelStreamingRun")]
    assert link.startswith("CancelStreamingRun: passed, ended")
    assert link.endswith("with WorkflowCancelled")
    # The matrix counts the stream reads as answers of their operation's 200.
    coverage = {row["operation"]: row for row in report["coverage"]}
    assert coverage[RUNS]["seen"]["200"] >= 2
    assert "Streams: read under the stream limits" in outcome.stdout


def test_an_endless_stream_is_cut_at_the_limit_and_still_ends_on_the_cancel(
    conform_outcomes: ConformOutcomes,
) -> None:
    outcome = conform_outcomes.get("stream_endless", *LIMITS, spec=STREAM_CONTRACT)
    rows = {s["read"]: s["outcome"] for s in outcome.report()["streams"] if s["operation"] == RUNS}
    assert rows["read"] == "40 items, cut at the event limit"
    assert rows["link CancelStreamingRun"].startswith("CancelStreamingRun: passed")
    (finding,) = outcome.report()["findings"]
    assert "--stream-max-events" in finding["message"]
    assert finding["severity"] == "medium"


def test_a_stream_that_goes_on_after_the_cancel_names_the_event_it_ended_with(
    conform_outcomes: ConformOutcomes,
) -> None:
    outcome = conform_outcomes.get("stream_cancel_ignored", *LIMITS, spec=STREAM_CONTRACT)
    (finding,) = outcome.report()["findings"]
    assert "answered 200" in finding["message"]
    assert "ended with WorkflowCompleted, expected WorkflowCancelled" in finding["message"]
    assert finding["curl"].startswith("curl ")
