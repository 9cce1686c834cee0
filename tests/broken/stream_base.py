"""A small Starlette server that conforms to `stream_contract.yaml`; broken streaming servers
override one hook.

Workflows: `demo` (three steps one after another) and `demo-parallel` (three steps at once).
A run started with `stream=true` (the default) streams its events as SSE, as AgentOS does: an
`event:` line, a `data:` line of JSON that repeats the name in its own `event` field. Cancelling
a streaming run (another connection) stops every step at once; `WorkflowCancelled` is then the
stream's last event. `GET /workflows/{id}/log` answers JSON Lines. Each step takes
$STREAM_STEP_SECONDS (default 0.15 s). The known runs of `base.py` (`run-1`, `run-done`) stay.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .base import BOOLEANS, OTHER_METHODS, Server, error

STEP_VARIABLE = "STREAM_STEP_SECONDS"
STEPS = ("research", "write", "review")
WORKFLOWS = {"demo": False, "demo-parallel": True}  # name -> steps run in parallel
SSE = "text/event-stream"


@dataclass
class Run:
    run_id: str
    workflow_id: str
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)


class StreamServer(Server):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.step_seconds = float(os.environ.get(STEP_VARIABLE, "0.15"))
        self.active: dict[str, Run] = {}
        self.finished: set[str] = set()
        self.numbers = itertools.count(1)

    # --- the behaviours a broken streaming server overrides ------------------------------------

    def frame(self, name: str, data: dict[str, Any]) -> bytes:
        """One SSE event, framed per the WHATWG rules."""
        return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

    def payload(self, run: Run, name: str, **fields: Any) -> dict[str, Any]:
        return {
            "event": name,
            "run_id": run.run_id,
            "session_id": f"session-{run.run_id}",
            "workflow_id": run.workflow_id,
            "created_at": int(time.time()),
            **fields,
        }

    async def stop_run(self, run: Run) -> None:
        """What the cancel does to a streaming run: stop every step now."""
        run.cancelled.set()

    async def events(self, run: Run) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """The run's events, as (name, data)."""
        yield "WorkflowStarted", self.payload(run, "WorkflowStarted")
        if WORKFLOWS[run.workflow_id]:
            async for event in self.parallel(run):
                yield event
        else:
            for step in STEPS:
                yield "StepStarted", self.payload(run, "StepStarted", step_name=step)
                if await self.work(run):
                    break
                yield "StepCompleted", self.payload(run, "StepCompleted", step_name=step)
        if run.cancelled.is_set():
            yield "WorkflowCancelled", self.payload(run, "WorkflowCancelled", reason="cancelled")
        else:
            yield "WorkflowCompleted", self.payload(run, "WorkflowCompleted", content="done")

    def log_lines(self, workflow_id: str) -> list[bytes]:
        lines = [
            {"run_id": "run-1", "status": "RUNNING"},
            {"run_id": "run-done", "status": "COMPLETED"},
        ]
        return [json.dumps(line).encode() + b"\n" for line in lines]

    # --- the runs ------------------------------------------------------------------------------

    async def work(self, run: Run) -> bool:
        """One step's work; True when the run was cancelled meanwhile (the step stops at once)."""
        try:
            await asyncio.wait_for(run.cancelled.wait(), self.step_seconds)
        except TimeoutError:
            return False
        return True

    async def parallel(self, run: Run) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        yield (
            "ParallelExecutionStarted",
            self.payload(run, "ParallelExecutionStarted", step_count=3),
        )
        queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue()

        async def step(name: str) -> None:
            try:
                await queue.put(("StepStarted", self.payload(run, "StepStarted", step_name=name)))
                if not await self.work(run):
                    completed = self.payload(run, "StepCompleted", step_name=name)
                    await queue.put(("StepCompleted", completed))
            finally:
                await queue.put(None)

        tasks = [asyncio.create_task(step(name)) for name in STEPS]
        try:
            done = 0
            while done < len(tasks):
                item = await queue.get()
                if item is None:
                    done += 1
                else:
                    yield item
        finally:
            for task in tasks:
                task.cancel()
        if not run.cancelled.is_set():
            yield (
                "ParallelExecutionCompleted",
                self.payload(run, "ParallelExecutionCompleted", step_count=3),
            )

    async def start_run(self, request: Request) -> Response:
        workflow_id = request.path_params["workflow_id"]
        if workflow_id not in WORKFLOWS:
            return self.not_found("workflow not found", "WORKFLOW_NOT_FOUND")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return error(422, "body: expected a form", "VALIDATION_ERROR")
        text = (await request.body()).decode("utf-8", errors="replace")
        fields: dict[str, str] = {}
        for name, value in parse_qsl(text, keep_blank_values=True):
            fields.setdefault(name, value)
        if "message" not in fields:
            return error(422, "body.message: required", "VALIDATION_ERROR")
        stream = fields.get("stream", "true").lower()
        if stream not in BOOLEANS:
            return error(422, "body.stream: not a boolean", "VALIDATION_ERROR")
        run = Run(f"run-s{next(self.numbers)}", workflow_id)
        if stream in {"false", "0", "no", "off", "f", "n"}:
            return JSONResponse({"run_id": run.run_id, "status": "COMPLETED", "content": "done"})
        self.active[run.run_id] = run
        return StreamingResponse(
            self.sse(run), media_type=SSE, headers={"Cache-Control": "no-cache"}
        )

    async def sse(self, run: Run) -> AsyncIterator[bytes]:
        try:
            async for name, data in self.events(run):
                yield self.frame(name, data)
        finally:  # the stream ended, or the client went away: the run is over either way
            self.active.pop(run.run_id, None)
            self.finished.add(run.run_id)

    async def cancel(self, request: Request) -> Response:
        workflow_id = request.path_params["workflow_id"]
        run_id = request.path_params["run_id"]
        if workflow_id not in WORKFLOWS:
            return self.not_found("workflow not found", "WORKFLOW_NOT_FOUND")
        run = self.active.get(run_id)
        if run is not None and run.workflow_id == workflow_id:
            await self.stop_run(run)
            return JSONResponse({"run_id": run_id, "status": "CANCELLED"})
        if run_id in self.finished:
            return error(400, "run is not active", "RUN_NOT_ACTIVE")
        return (
            await super().cancel(request)
            if workflow_id == "demo"
            else self.not_found("run not found", "RUN_NOT_FOUND")
        )

    async def workflow_log(self, request: Request) -> Response:
        if request.path_params["workflow_id"] not in WORKFLOWS:
            return self.not_found("workflow not found", "WORKFLOW_NOT_FOUND")
        lines = self.log_lines(request.path_params["workflow_id"])

        async def body() -> AsyncIterator[bytes]:
            for line in lines:
                yield line

        return StreamingResponse(body(), media_type="application/jsonl")

    # --- wiring --------------------------------------------------------------------------------

    def app(self) -> Starlette:
        def guarded(handler: Any) -> Any:
            async def endpoint(request: Request) -> Response:
                await self.log(request)
                rejection = await self.authenticate(request)
                if rejection is not None:
                    return rejection
                response: Response = await handler(request)
                return response

            return endpoint

        def others(allowed: str) -> Any:
            async def endpoint(request: Request) -> Response:
                await self.log(request)
                return await self.other_method(request, allowed)

            return endpoint

        runs_path = "/workflows/{workflow_id}/runs"
        cancel_path = "/workflows/{workflow_id}/runs/{run_id}/cancel"
        log_path = "/workflows/{workflow_id}/log"
        return Starlette(
            routes=[
                Route(runs_path, guarded(self.start_run), methods=["POST"]),
                Route(runs_path, others("POST"), methods=OTHER_METHODS),
                Route(cancel_path, guarded(self.cancel), methods=["POST"]),
                Route(cancel_path, others("POST"), methods=OTHER_METHODS),
                Route(log_path, guarded(self.workflow_log), methods=["GET"]),
                Route(log_path, others("GET"), methods=[m for m in OTHER_METHODS if m != "GET"]),
            ]
        )
