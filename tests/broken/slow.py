"""Not a contract class of its own: cancelling the active run takes 3 s (timeout finding)."""

import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from .base import Server, factory


class Slow(Server):
    async def cancel(self, request: Request) -> Response:
        if request.path_params["run_id"] == "run-1":
            await asyncio.sleep(3)
        return await super().cancel(request)


def create() -> Starlette:
    return factory(Slow)
