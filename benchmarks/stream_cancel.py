"""Time from the cancel request to the stream's last event, on a parallel run with three steps
working: p50 and p99, through the toolkit's stream reader vs plain httpx, in the same run.

Each round starts a run of the parallel workflow with `stream=true`, reads its SSE stream until
all three `StepStarted` events have arrived (three steps working), then sends the cancel on
another connection and records the time from just before sending it to the moment the stream's
last event is read (the stream then ends; the last event must be the contract's terminal
event, `WorkflowCancelled`, or the round counts as failed).

- ours: the toolkit's path, as `contract conform`'s `stream_ends_on_link` check runs it:
  `conformance.stream_reader.read_stream` (WHATWG framing, limits, one deadline) and the link's
  parameters resolved from the contract (`x-contract-ends-stream` link, `$response.body#/run_id`).
- peer: the same requests with plain httpx and a minimal line parser, no toolkit.

Rounds alternate ours / peer. The target: by default the good streaming server of the tests
(`tests/broken/stream_good.py`, steps of 5 s so they are still working at the cancel) with
`tests/broken/stream_contract.yaml`, started on a free loopback port; `--url URL --spec SPEC
[--token T] [--workflow ID]` points it at any server (e.g. `contract serve`'s reference once it
streams, with `spec/agentos.yaml` and `--workflow demo-parallel`).

    .venv/bin/python benchmarks/stream_cancel.py [--rounds 50] [--url URL --spec SPEC ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from conformance.stream_checks import build_call, link_target, resolve_expression  # noqa: E402
from conformance.stream_framing import SseEvent  # noqa: E402
from conformance.stream_reader import (  # noqa: E402
    StreamLimits,
    StreamRead,
    StreamRequest,
    read_stream,
)
from conformance.streams_spec import EndsStreamLink, StreamResponse, stream_responses  # noqa: E402
from generator.launch import ServerProcess, free_port  # noqa: E402
from generator.spec.config import TOKEN_VARIABLE  # noqa: E402
from generator.spec.loader import load_spec  # noqa: E402

DEFAULT_SPEC = REPO / "tests" / "broken" / "stream_contract.yaml"
DEFAULT_WORKFLOW = "demo-parallel"
STEPS_WORKING = 3
FORM = "application/x-www-form-urlencoded"
LIMITS = StreamLimits(max_events=1000, seconds=30.0, max_bytes=8 * 1024 * 1024)


@dataclass(frozen=True)
class Target:
    base_url: str
    token: str | None
    stream: StreamResponse
    link: EndsStreamLink
    document: dict[str, Any]
    workflow: str

    def start_request(self) -> StreamRequest:
        path = self.stream.path.replace("{workflow_id}", self.workflow)
        headers = {"Content-Type": FORM, "Accept": "text/event-stream"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return StreamRequest("POST", self.base_url + path, headers, b"message=bench&stream=true")

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


class _Case:
    """What `resolve_expression` reads of a Schemathesis case: the path parameters."""

    def __init__(self, workflow: str) -> None:
        self.path_parameters = {"workflow_id": workflow}
        self.query: dict[str, Any] = {}


def _is_step_started(name: str | None) -> bool:
    return name == "StepStarted"


async def ours(target: Target) -> tuple[float, str | None]:
    """One round through the toolkit: seconds from the cancel to the last event, last event."""
    request = target.start_request()
    link_to = link_target(target.document, target.link)
    assert link_to is not None, "the link names no operation of the contract"
    case: Any = _Case(target.workflow)
    state: dict[str, Any] = {"started": 0, "run_id": None, "task": None, "sent_at": None}

    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:

        async def on_item(item: Any, read: StreamRead) -> None:
            if not isinstance(item, SseEvent) or state["task"] is not None:
                return
            if _is_step_started(item.name):
                state["started"] += 1
            if state["started"] < STEPS_WORKING:
                return
            values = {}
            for name, expression in target.link.parameters.items():
                found, value = resolve_expression(expression, case, request, item)
                assert found, f"cannot resolve {expression}"
                values[name] = value
            url, headers = build_call(target.base_url, link_to, values, target.auth())
            state["sent_at"] = time.monotonic()
            state["task"] = asyncio.create_task(
                client.request(link_to.method, url, headers=headers)
            )

        read = await read_stream(
            client, request, LIMITS, media_type="text/event-stream", on_item=on_item
        )
        if state["task"] is not None:
            await state["task"]
    if state["sent_at"] is None or read.last_item_at is None:
        raise RuntimeError(f"no cancel sent (stream {read.ended}, {len(read.items)} items)")
    last = read.items[-1]
    name = last.name if isinstance(last, SseEvent) else None
    return read.started + read.last_item_at - state["sent_at"], name


async def peer(target: Target) -> tuple[float, str | None]:
    """The same round with plain httpx: iterate lines, count events, cancel, read to the end."""
    request = target.start_request()
    cancel_path = None
    started = 0
    event_name: str | None = None
    last_name: str | None = None
    last_at = 0.0
    sent_at: float | None = None
    task = None
    async with (
        httpx.AsyncClient(timeout=30, trust_env=False) as client,
        client.stream(
            "POST", request.url, headers=dict(request.headers), content=request.body
        ) as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event_name = line[6:].strip()
            elif line.startswith("data:") and cancel_path is None:
                run_id = json.loads(line[5:])["run_id"]
                cancel_path = f"/workflows/{target.workflow}/runs/{run_id}/cancel"
            elif line == "" and event_name is not None:
                last_name, last_at = event_name, time.monotonic()
                started += event_name == "StepStarted"
                event_name = None
                if started == STEPS_WORKING and task is None and cancel_path is not None:
                    sent_at = time.monotonic()
                    task = asyncio.create_task(
                        client.post(target.base_url + cancel_path, headers=target.auth())
                    )
        if task is not None:
            await task
    if sent_at is None:
        raise RuntimeError("no cancel sent")
    return last_at - sent_at, last_name


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


@contextmanager
def good_server() -> Iterator[tuple[str, str]]:
    token = "bench-stream-token"
    port = free_port()
    env = {
        **os.environ,
        "CONFORMANCE_TEST_TOKEN": token,
        "STREAM_STEP_SECONDS": "5",
        "PYTHONPATH": str(REPO),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "tests.broken.stream_good:create",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as scratch:
        server = ServerProcess(
            command,
            url=f"http://127.0.0.1:{port}",
            log=Path(scratch) / "server.log",
            env=env,
            cwd=REPO,
            ready_path="/workflows/demo/log",
        )
        server.start()
        try:
            yield server.url, token
        finally:
            server.stop()


def load_target(url: str, token: str | None, spec: Path, workflow: str) -> Target:
    document = load_spec(spec).document
    for stream in stream_responses(document):
        for link in stream.links:
            if stream.is_sse:
                return Target(url.rstrip("/"), token, stream, link, document, workflow)
    raise SystemExit(f"{spec}: no text/event-stream response with an x-contract-ends-stream link")


async def measure(target: Target, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"ours": [], "peer": []}
    failures: dict[str, int] = {"ours": 0, "peer": 0}
    runners = {"ours": ours, "peer": peer}
    for number in range(rounds):
        order = ("ours", "peer") if number % 2 == 0 else ("peer", "ours")
        for name in order:
            seconds, last = await runners[name](target)
            if last != target.link.terminal_event:
                failures[name] += 1
            else:
                times[name].append(seconds)
    for name, count in failures.items():
        if count:
            print(f"{name}: {count} rounds did not end with {target.link.terminal_event}")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--url", help="a running server (default: start the good stream server)")
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--token", default=os.environ.get(TOKEN_VARIABLE))
    parser.add_argument("--workflow", default=DEFAULT_WORKFLOW)
    args = parser.parse_args()

    def run(url: str, token: str | None) -> dict[str, list[float]]:
        target = load_target(url, token, args.spec, args.workflow)
        asyncio.run(measure(target, 2))  # warm-up: imports, connections, the server's first run
        return asyncio.run(measure(target, args.rounds))

    if args.url:
        times = run(args.url, args.token)
        where = args.url
    else:
        with good_server() as (url, token):
            times = run(url, token)
        where = "tests/broken/stream_good.py (steps of 5 s)"
    print(f"cancel -> last event, {args.workflow}, {STEPS_WORKING} steps working, {where}")
    print(f"{'':8} {'rounds':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    figures: dict[str, tuple[float, float]] = {}
    for name in ("ours", "peer"):
        values = times[name]
        if not values:
            print(f"{name:8} no successful rounds")
            return 1
        p50, p99 = statistics.median(values) * 1000, percentile(values, 0.99) * 1000
        figures[name] = (p50, p99)
        print(f"{name:8} {len(values):>6} {p50:>8.2f} {p99:>8.2f} {max(values) * 1000:>8.2f}")
    (o50, o99), (p50, p99) = figures["ours"], figures["peer"]
    print(f"ratio ours/peer: p50 {o50 / p50:.2f}x, p99 {o99 / p99:.2f}x (goal: p99 < 100 ms)")
    return 0 if o99 < 100 else 1


if __name__ == "__main__":
    raise SystemExit(main())
