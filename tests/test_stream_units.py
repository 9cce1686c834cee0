"""The pure parts of the stream checks: SSE and JSON Lines framing, item judging, the link's
parameters, the request that asks for a stream, and the contract reader; plus the reader's limits
against a real endless stream on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import yaml

from conformance.probes import Candidate, SentRequest
from conformance.stream_checks import (
    LinkCall,
    _asking_for_stream,
    build_call,
    judge_link,
    judge_read,
    link_target,
    plan,
    resolve_expression,
    stream_request,
)
from conformance.stream_framing import JsonRecord, LineParser, SseEvent, SseParser
from conformance.stream_items import ItemJudge, allowed_event_names
from conformance.stream_reader import StreamLimits, StreamRead, StreamRequest, read_stream
from conformance.streams_spec import stream_responses
from generator.spec.loader import load_spec
from generator.spec.validate import validate
from tests.support.conform import TOKEN, broken_server
from tests.support.server import REPO

CONTRACT = REPO / "tests" / "broken" / "stream_contract.yaml"
DOCUMENT: dict[str, Any] = yaml.safe_load(CONTRACT.read_text("utf-8"))
RUNS, LOG = stream_responses(DOCUMENT)
FORM = "application/x-www-form-urlencoded"
LIMITS = StreamLimits(max_events=100, seconds=5, max_bytes=1 << 20)


def sse(*chunks: bytes) -> tuple[list[SseEvent], list[str]]:
    parser = SseParser()
    events = [e for chunk in chunks for e in parser.feed(chunk)]
    events += parser.close()
    return events, parser.problems


# SSE framing (WHATWG)


def test_sse_multi_line_data_id_retry_and_comments() -> None:
    events, problems = sse(b": keep-alive\n\nevent: a\ndata: one\ndata:two\nid: 7\nretry: 15\n\n")
    assert events == [SseEvent("one\ntwo", "a", "7", 15)]
    assert problems == []


def test_sse_line_ends_of_every_kind_even_split_across_chunks() -> None:
    events, problems = sse(b"\xef\xbb\xbfdata: x\r", b"\n\r\n", b"data: y\r\rdata: z\n\n")
    assert [e.data for e in events] == ["x", "y", "z"]
    assert problems == []


def test_sse_event_without_data_is_not_dispatched_and_name_defaults_to_message() -> None:
    events, _ = sse(b"event: nothing\n\ndata: d\n\n")
    assert [(e.name, e.data) for e in events] == [("message", "d")]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"event WorkflowStarted\ndata: {}\n\n", "a line without a colon"),
        (b"dta: {}\n\n", "a field other than event, data, id, retry"),
        (b"retry: soon\ndata: x\n\n", "a retry field that is not digits"),
        (b"id: a\x00b\ndata: x\n\n", "an id field holding NUL"),
        (b"data: \xff\xfe\n\n", "bytes that are not UTF-8"),
        (b"data: x\n\ndata: cut", "the stream ended in the middle of an event"),
    ],
)
def test_sse_framing_problems(body: bytes, problem: str) -> None:
    _, problems = sse(body)
    assert any(p.startswith(problem) for p in problems), problems


# JSON Lines / json-seq


def test_json_lines_each_line_is_one_value() -> None:
    parser = LineParser()
    records = parser.feed(b'{"a": 1}\r\n{"a"') + parser.feed(b": 2}\nnope\n") + parser.close()
    assert [r.value for r in records] == [{"a": 1}, {"a": 2}, None]
    assert records[2].error is not None and records[2].error.startswith("not JSON")
    assert parser.problems == []


def test_json_lines_without_a_final_line_end_is_a_problem() -> None:
    parser = LineParser()
    records = parser.feed(b'{"a": 1}\n{"a": 2}') + parser.close()
    assert len(records) == 2
    assert parser.problems[0].startswith("the last line has no line end")


def test_json_seq_records() -> None:
    parser = LineParser(json_seq=True)
    records = parser.feed(b'\x1e{"a": 1}\n\x1e[2]\n') + parser.close()
    assert [r.value for r in records] == [{"a": 1}, [2]]


# Items against the item schema


def event(name: str, **data: Any) -> SseEvent:
    import json

    base = {"event": name, "run_id": "r", "session_id": "s", "workflow_id": "w", "created_at": 1}
    return SseEvent(json.dumps({**base, **data}), name)


def test_event_names_come_from_the_one_of_branches() -> None:
    names = allowed_event_names(DOCUMENT, RUNS.item_schema)
    assert names is not None and {"WorkflowStarted", "WorkflowCancelled"} <= names
    assert allowed_event_names(DOCUMENT, {"type": "object"}) is None


def test_item_judge_accepts_good_events_and_names_each_fault() -> None:
    judge = ItemJudge(DOCUMENT, RUNS.item_schema, sse=True)
    assert judge.problems(event("StepStarted", step_name="research")) == []
    (missing,) = judge.problems(event("StepStarted"))
    assert missing.kind == "schema" and "'step_name' is a required property" in missing.message
    (name,) = judge.problems(event("StepProgress"))
    assert name.kind == "event-name"
    (not_json,) = judge.problems(SseEvent("{oops", "WorkflowStarted"))
    assert "data is not JSON" in not_json.message
    (unnamed,) = judge.problems(SseEvent("{}"))  # `message`: no branch allows it
    assert unnamed.kind == "event-name"


def test_item_judge_validates_each_json_line() -> None:
    judge = ItemJudge(DOCUMENT, LOG.item_schema, sse=False)
    assert judge.problems(JsonRecord("", {"run_id": "r", "status": "RUNNING"})) == []
    (bad,) = judge.problems(JsonRecord("", {"run_id": "r", "status": "LOST"}))
    assert "/status" in bad.message
    (not_json,) = judge.problems(JsonRecord("x", None, "not JSON (x): x"))
    assert not_json.key == "not-json"


def test_judge_read_reports_framing_items_and_an_endless_stream_once_each() -> None:
    read = StreamRead(ended="events", problems=["a retry field that is not digits: retry: x"])
    read.items = [event("StepStarted"), event("StepStarted"), event("Nope")]
    found = judge_read(DOCUMENT, RUNS, read, LIMITS)
    assert [check for check, _ in found] == [
        "stream_framing",
        "stream_items",
        "stream_event_names",
        "stream_limits",
    ]
    assert [f.code for _, f in found] == ["CT111", "CT112", "CT113", "CT114"]


# The ends-stream link


def test_link_not_ending_the_stream_in_time_and_ending_with_the_wrong_event() -> None:
    (link,) = RUNS.links
    call = LinkCall("POST", "http://127.0.0.1:1/workflows/demo/runs/r/cancel", 200)
    late = StreamRead(ended="timeout", items=[event("WorkflowStarted")])
    ((check, failure),) = judge_link(RUNS, link, late, call, LIMITS, None)
    assert (check, failure.code) == ("stream_ends_on_link", "CT115")
    assert "did not end within 5 s (--stream-timeout) after it" in failure.message
    wrong = StreamRead(ended="closed", items=[event("WorkflowCompleted")])
    ((_, failure),) = judge_link(RUNS, link, wrong, call, LIMITS, None)
    assert failure.code == "CT116"
    right = StreamRead(ended="closed", items=[event("WorkflowCancelled")])
    assert judge_link(RUNS, link, right, call, LIMITS, None) == []
    ((_, never),) = judge_link(RUNS, link, right, None, LIMITS, None)
    assert never.code == "CT115" and "before any item gave the link's parameters" in never.message


class FakeCase:
    path_parameters = {"workflow_id": "demo"}
    query: dict[str, Any] = {}


def test_link_parameters_resolve_against_the_request_and_the_first_item() -> None:
    (link,) = RUNS.links
    request = StreamRequest("POST", "http://h/workflows/demo/runs", {"X-A": "1"}, None)
    case: Any = FakeCase()
    item = event("WorkflowStarted")
    assert resolve_expression(link.parameters["workflow_id"], case, request, item) == (True, "demo")
    assert resolve_expression(link.parameters["run_id"], case, request, item) == (True, "r")
    assert resolve_expression("$response.body#/missing", case, request, item) == (False, None)
    assert resolve_expression("$request.header.x-a", case, request, None) == (True, "1")
    target = link_target(DOCUMENT, link)
    assert target is not None
    url, _ = build_call("http://h", target, {"workflow_id": "demo", "run_id": "r/1"}, {})
    assert url == "http://h/workflows/demo/runs/r%2F1/cancel"


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            b"message=hi&stream=false",
            "application/x-www-form-urlencoded",
            b"message=hi&stream=true",
        ),
        (b"message=hi", "application/x-www-form-urlencoded", b"message=hi"),
        (b'{"stream": false}', "application/json", b'{"stream": true}'),
        (None, "", None),
    ],
)
def test_the_stream_request_asks_for_the_stream(
    body: bytes | None, content_type: str, expected: bytes | None
) -> None:
    assert _asking_for_stream(body, content_type) == expected


# The contract reader


def test_stream_responses_and_their_ends_stream_link() -> None:
    assert (RUNS.label, RUNS.status, RUNS.media_type) == (
        "POST /workflows/{workflow_id}/runs",
        "200",
        "text/event-stream",
    )
    (link,) = RUNS.links
    assert (link.operation_id, link.terminal_event) == ("cancel_workflow_run", "WorkflowCancelled")
    assert (LOG.media_type, LOG.links) == ("application/jsonl", ())


def test_a_31_document_with_item_schemas_validates_for_conformance() -> None:
    loaded = load_spec(CONTRACT)
    assert validate(loaded) == ()
    assert "itemSchema" in str(loaded.document)  # validated, not dropped


# The reader's limits, against a real endless stream


@pytest.mark.slow
@pytest.mark.parametrize(
    ("limits", "ended"),
    [
        (StreamLimits(max_events=5, seconds=30, max_bytes=1 << 20), "events"),
        (StreamLimits(max_events=10**6, seconds=0.5, max_bytes=1 << 20), "timeout"),
        (StreamLimits(max_events=10**6, seconds=30, max_bytes=600), "bytes"),
    ],
    ids=["events", "timeout", "bytes"],
)
def test_an_endless_stream_stops_at_each_limit(limits: StreamLimits, ended: str) -> None:
    async def read(url: str) -> StreamRead:
        request = StreamRequest(
            "POST",
            f"{url}/workflows/demo/runs",
            {
                "Authorization": f"Bearer {TOKEN}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            b"message=hi",
        )
        async with httpx.AsyncClient(trust_env=False) as client:
            return await read_stream(client, request, limits, media_type="text/event-stream")

    with broken_server("stream_endless") as url:
        result = asyncio.run(read(url))
    assert result.status == 200
    assert result.ended == ended
    assert result.size <= limits.max_bytes
    assert len(result.items) <= limits.max_events
    if ended == "events":
        assert len(result.items) == 5


def test_plan_prefers_a_request_the_engine_saw_answered_with_the_stream() -> None:
    plain: Any = object()
    streamed: Any = object()
    planned, notes = plan(
        [RUNS, LOG], {RUNS.label: plain}, {(RUNS.label, RUNS.media_type): streamed}
    )
    assert planned == [(RUNS, streamed)]
    assert notes == [f"{LOG.label}: no accepted request to read its application/jsonl from"]
    assert plan([RUNS], {RUNS.label: plain})[0] == [(RUNS, plain)]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("limits", "ended"),
    [
        (StreamLimits(max_events=7, seconds=30, max_bytes=1 << 20), "events"),
        (StreamLimits(max_events=10**6, seconds=0.5, max_bytes=1 << 20), "timeout"),
    ],
    ids=["events", "timeout"],
)
def test_an_endless_json_lines_stream_stops_at_the_limits(limits: StreamLimits, ended: str) -> None:
    async def read(url: str) -> StreamRead:
        request = StreamRequest(
            "GET", f"{url}/workflows/demo/log", {"Authorization": f"Bearer {TOKEN}"}, None
        )
        async with httpx.AsyncClient(trust_env=False) as client:
            return await read_stream(client, request, limits, media_type="application/jsonl")

    with broken_server("stream_endless_jsonl") as url:
        result = asyncio.run(read(url))
    assert result.ended == ended
    assert all(isinstance(item, JsonRecord) and item.error is None for item in result.items)
    found = judge_read(DOCUMENT, LOG, result, limits)
    assert [(check, failure.code) for check, failure in found] == [("stream_limits", "CT114")]


def test_the_stream_request_sends_field_values_without_surrounding_whitespace() -> None:
    # Schemathesis fills a bearer header with an empty token when none is configured; httpx
    # refuses `Bearer ` outright, so the stream was never read on an open server.
    sent = SentRequest(
        "POST",
        "http://h/workflows/demo/runs",
        {"Authorization": "Bearer ", "Accept": "application/json", "X-Tab": "\tv"},
        None,
    )
    case: Any = FakeCase()
    request = stream_request(Candidate(case, sent, (0, 0)), "text/event-stream")
    assert request.headers == {
        "Authorization": "Bearer",
        "X-Tab": "v",
        "Accept": "text/event-stream",
    }
