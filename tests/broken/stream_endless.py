"""Streaming violation: a run whose stream never ends by itself: its first step reports
progress forever (a cancel still ends it). Caught by `stream_limits`, within the limits."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette

from .base import factory
from .stream_base import Run, StreamServer


class Endless(StreamServer):
    async def events(self, run: Run) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        yield "WorkflowStarted", self.payload(run, "WorkflowStarted")
        while not run.cancelled.is_set():
            yield "StepStarted", self.payload(run, "StepStarted", step_name="research")
            await asyncio.sleep(0.02)
        yield "WorkflowCancelled", self.payload(run, "WorkflowCancelled", reason="cancelled")


def create() -> Starlette:
    return factory(Endless)
