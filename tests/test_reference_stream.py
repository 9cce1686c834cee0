"""The reference streams runs as AgentOS does, over real HTTP (issue 12, item 4).

Streams are read with httpx as they arrive: the event sequence of demo-sequential and
demo-parallel, a cancel on another connection ending the stream with WorkflowCancelled, a
failing step ending it with WorkflowError, and a client that goes away cancelling its run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.apps.failing_reference import TOKEN as FAILING_TOKEN
from tests.support.reference_server import ReferenceServer, poll
from tests.support.server import uvicorn_server

RESEARCH = {"research-web", "research-papers", "research-code"}
COMMON = {"event", "created_at", "workflow_id", "workflow_name", "session_id", "run_id"}


@dataclass(frozen=True)
class Event:
    name: str
    data: dict[str, Any]


def events(lines: Iterator[str]) -> Iterator[Event]:
    """SSE events (WHATWG framing: fields until a blank line; `:` lines are comments)."""
    name, data = "message", []
    for line in lines:
        if line == "":
            if data:
                yield Event(name, json.loads("\n".join(data)))
            name, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)


def check_event(event: Event, workflow_id: str) -> None:
    assert event.data["event"] == event.name  # the data repeats the event's name, as in AgentOS
    assert COMMON <= set(event.data), event
    assert event.data["workflow_id"] == workflow_id
    assert isinstance(event.data["created_at"], int)


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceServer]:
    """Short steps: runs stream to their end in well under a second."""
    folder = tmp_path_factory.mktemp("reference-stream-quick")
    env = {"AGENTOS_DEMO_STEP_SECONDS": "0.2"}
    with ReferenceServer(folder / "agentos.db", folder / "server.log", env=env) as running:
        yield running
    assert "Traceback" not in running.log_text()


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceServer]:
    """Long steps (30 s): a run is still working when the test cancels it or goes away."""
    folder = tmp_path_factory.mktemp("reference-stream-slow")
    with ReferenceServer(folder / "agentos.db", folder / "server.log") as running:
        yield running
    assert "Traceback" not in running.log_text()


def stream_run(client: httpx.Client, workflow_id: str) -> list[Event]:
    with client.stream("POST", f"/workflows/{workflow_id}/runs", data={"message": "m"}) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        return list(events(reply.iter_lines()))


def read_run(client: httpx.Client, workflow_id: str, run_id: str) -> dict[str, Any]:
    reply = client.get(f"/workflows/{workflow_id}/runs/{run_id}")
    assert reply.status_code == 200, reply.text
    run: dict[str, Any] = reply.json()
    return run


def test_demo_sequential_streams_each_step_then_workflow_completed(
    quick: ReferenceServer,
) -> None:
    with quick.client() as client:
        received = stream_run(client, "demo-sequential")
        for event in received:
            check_event(event, "demo-sequential")
        assert [e.name for e in received] == [
            "WorkflowStarted",
            *["StepStarted", "StepCompleted"] * 3,
            "WorkflowCompleted",
        ]
        steps = [e.data["step_name"] for e in received if e.name == "StepStarted"]
        assert steps == ["prepare", "process", "summarise"]
        assert [e.data["step_index"] for e in received if e.name == "StepCompleted"] == [0, 1, 2]
        run_ids = {e.data["run_id"] for e in received}
        assert len(run_ids) == 1
        run = read_run(client, "demo-sequential", run_ids.pop())
        assert run["status"] == "COMPLETED"
        assert received[-1].data["content"] == run["content"]


def test_demo_parallel_interleaves_its_parallel_steps(quick: ReferenceServer) -> None:
    with quick.client() as client:
        received = stream_run(client, "demo-parallel")
    for event in received:
        check_event(event, "demo-parallel")
    names = [e.name for e in received]
    assert names == [
        "WorkflowStarted",
        "ParallelExecutionStarted",
        *["StepStarted"] * 3,
        *["StepCompleted"] * 3,
        "ParallelExecutionCompleted",
        "StepStarted",
        "StepCompleted",
        "WorkflowCompleted",
    ]
    # all three research steps start before any completes: they run at the same time
    assert {e.data["step_name"] for e in received[2:5]} == RESEARCH
    assert {e.data["step_name"] for e in received[5:8]} == RESEARCH
    assert {tuple(e.data["step_index"]) for e in received[2:5]} == {(0, 0), (0, 1), (0, 2)}
    assert received[1].data["parallel_step_count"] == 3
    assert received[-2].data["step_name"] == "summarise"


def test_stream_false_still_answers_the_finished_run_as_json(quick: ReferenceServer) -> None:
    with quick.client() as client:
        reply = client.post(
            "/workflows/demo-sequential/runs", data={"message": "m", "stream": "false"}
        )
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["status"] == "COMPLETED"


def test_a_cancel_on_another_connection_ends_the_stream_with_workflow_cancelled(
    slow: ReferenceServer,
) -> None:
    with slow.client() as streaming, slow.client() as other:
        with streaming.stream(
            "POST", "/workflows/demo-parallel/runs", data={"message": "m"}
        ) as reply:
            assert reply.status_code == 200
            received: list[Event] = []
            stream = events(reply.iter_lines())
            for event in stream:
                received.append(event)
                if sum(e.name == "StepStarted" for e in received) == 3:
                    break  # every parallel step is working
            run_id = received[0].data["run_id"]
            cancel = other.post(f"/workflows/demo-parallel/runs/{run_id}/cancel")
            assert cancel.status_code == 200, cancel.text
            received.extend(stream)  # the rest, until the server ends the stream
        names = [e.name for e in received]
        assert names[-1] == "WorkflowCancelled"
        assert "StepCompleted" not in names and "WorkflowCompleted" not in names
        assert received[-1].data["run_id"] == run_id
        run = read_run(other, "demo-parallel", run_id)
        assert run["status"] == "CANCELLED"
        research = [step for step in run["steps"] if step["name"] in RESEARCH]
        assert {step["status"] for step in research} == {"CANCELLED"}
        assert all(step["cleaned_up"] for step in research)
        assert [s["status"] for s in run["steps"] if s["name"] == "summarise"] == ["CANCELLED"]


def test_a_client_that_goes_away_cancels_its_streaming_run(slow: ReferenceServer) -> None:
    with slow.client() as client:
        with client.stream("POST", "/workflows/demo-parallel/runs", data={"message": "m"}) as r:
            first = next(events(r.iter_lines()))
        # the connection is closed here, mid-run
        assert first.name == "WorkflowStarted"
        run_id = first.data["run_id"]
        # Nobody waits for this cancel's cleanup (no cancel call answers): the run reads
        # CANCELLED at once, its steps a moment later, once each one's cleanup is recorded.
        run = poll(
            lambda: read_run(client, "demo-parallel", run_id),
            lambda run: all(step["status"] not in ("PENDING", "RUNNING") for step in run["steps"]),
        )
        assert run["status"] == "CANCELLED"
        assert all(step["cleaned_up"] for step in run["steps"] if step["started_at"])


def test_a_background_run_is_not_cancelled_by_its_client(slow: ReferenceServer) -> None:
    with slow.client() as client:
        data = {"message": "m", "background": "true"}
        accepted = client.post("/workflows/demo-parallel/runs", data=data)
        assert accepted.status_code == 202
        run_id = accepted.json()["run_id"]
        assert read_run(client, "demo-parallel", run_id)["status"] in ("PENDING", "RUNNING")
        cancel = client.post(f"/workflows/demo-parallel/runs/{run_id}/cancel")
        assert cancel.json()["status"] == "CANCELLED"


def test_a_failing_step_ends_the_stream_with_workflow_error(tmp_path: Path) -> None:
    env = {"FAILING_REFERENCE_DB": str(tmp_path / "agentos.db")}
    log = tmp_path / "server.log"
    with uvicorn_server("tests.apps.failing_reference:build", env=env, log_path=log) as url:
        headers = {"Authorization": f"Bearer {FAILING_TOKEN}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            received = stream_run(client, "demo-failing")
            names = [e.name for e in received]
            assert names == ["WorkflowStarted", "StepStarted", "StepCompleted", "StepStarted"] + [
                "WorkflowError"
            ]
            assert received[-1].data["error"] == "a step failed: RuntimeError"
            run = read_run(client, "demo-failing", received[0].data["run_id"])
            assert run["status"] == "ERROR"
