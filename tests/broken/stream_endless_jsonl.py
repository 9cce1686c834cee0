"""Streaming violation: a JSON Lines log that never ends. Our stream reader stops it at its
limits (`stream_limits`, tests/test_stream_units.py). Schemathesis 4.32 reads a JSON Lines body
whole: its read is bounded only once conform-bounds' BoundedAdapter (--max-response-bytes and a
deadline per request) is on the engine's sessions; until then this server is not given to a
whole `contract conform` run."""

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .base import factory
from .stream_base import StreamServer


class EndlessLog(StreamServer):
    async def workflow_log(self, request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            while True:
                yield json.dumps({"run_id": "run-1", "status": "RUNNING"}).encode() + b"\n"
                await asyncio.sleep(0.01)

        return StreamingResponse(body(), media_type="application/jsonl")


def create() -> Starlette:
    return factory(EndlessLog)
