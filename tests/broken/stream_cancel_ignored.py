"""Streaming violation: the cancel answers 200, but the stream goes on after it (agno #10390):
the steps run to the end and no `WorkflowCancelled` arrives (`stream_ends_on_link`)."""

from starlette.applications import Starlette

from .base import factory
from .stream_base import Run, StreamServer


class CancelIgnored(StreamServer):
    async def stop_run(self, run: Run) -> None:
        return None  # the run is marked cancelled nowhere: its steps carry on


def create() -> Starlette:
    return factory(CancelIgnored)
