"""Streaming violation: a JSON Lines line that is not JSON (`stream_items`)."""

from starlette.applications import Starlette

from .base import factory
from .stream_base import StreamServer


class NotJson(StreamServer):
    def log_lines(self, workflow_id: str) -> list[bytes]:
        return [*super().log_lines(workflow_id), b"{run_id: run-2, status: RUNNING\n"]


def create() -> Starlette:
    return factory(NotJson)
