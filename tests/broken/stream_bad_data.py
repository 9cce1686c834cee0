"""Streaming violation: `StepStarted` data lacks its required `step_name` (`stream_items`)."""

from typing import Any

from starlette.applications import Starlette

from .base import factory
from .stream_base import Run, StreamServer


class BadData(StreamServer):
    def payload(self, run: Run, name: str, **fields: Any) -> dict[str, Any]:
        data = super().payload(run, name, **fields)
        if name == "StepStarted":
            data.pop("step_name", None)
        return data


def create() -> Starlette:
    return factory(BadData)
