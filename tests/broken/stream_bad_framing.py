"""Streaming violation: events framed without colons (`event WorkflowStarted`), a browser
ignores those lines and so the whole event (`stream_framing`)."""

import json
from typing import Any

from starlette.applications import Starlette

from .base import factory
from .stream_base import StreamServer


class BadFraming(StreamServer):
    def frame(self, name: str, data: dict[str, Any]) -> bytes:
        if name == "StepCompleted":
            return f"event {name}\ndata {json.dumps(data)}\n\n".encode()
        return super().frame(name, data)


def create() -> Starlette:
    return factory(BadFraming)
