"""Hostile: cancelling the active run answers 200 at once, then drips its body one byte every half
second for a minute (each read is quick: only the total time can stop it)."""

import asyncio
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .base import Server, factory


async def drip() -> AsyncIterator[bytes]:
    yield b'{"run_id": "run-1", "status": "'
    for _ in range(120):
        await asyncio.sleep(0.5)
        yield b"x"
    yield b'"}'


class Drip(Server):
    async def cancel(self, request: Request) -> Response:
        if request.path_params["run_id"] != "run-1":
            return await super().cancel(request)
        return StreamingResponse(drip(), 200, media_type="application/json")


def create() -> Starlette:
    return factory(Drip)
