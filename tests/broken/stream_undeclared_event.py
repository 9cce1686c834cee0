"""Streaming violation: a `StepProgress` event no branch of the item schema allows
(`stream_event_names`)."""

from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette

from .base import factory
from .stream_base import Run, StreamServer


class UndeclaredEvent(StreamServer):
    async def events(self, run: Run) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        async for name, data in super().events(run):
            yield name, data
            if name == "StepStarted":
                yield "StepProgress", self.payload(run, "StepProgress", percent=50)


def create() -> Starlette:
    return factory(UndeclaredEvent)
