"""Hostile: cancelling the active run answers a body that never ends, as fast as it can (letting
its event loop notice a client that hung up, so that only this request is endless)."""

import asyncio
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .base import Server, factory

CHUNK = b"[" + b"0," * 32767


async def endless() -> AsyncIterator[bytes]:
    while True:
        yield CHUNK
        await asyncio.sleep(0)


class EndlessBody(Server):
    async def cancel(self, request: Request) -> Response:
        if request.path_params["run_id"] != "run-1":
            return await super().cancel(request)
        return StreamingResponse(endless(), 200, media_type="application/json")


def create() -> Starlette:
    return factory(EndlessBody)
