"""Hostile: cancelling the active run answers 200 with 200 headers of 1 KiB each, one of them a
single line of 100 KiB (http.client refuses more than 100 headers and lines over 64 KiB)."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .base import Server, factory

HEADERS = {f"x-filler-{n}": "h" * 1024 for n in range(200)} | {"x-huge": "H" * 100_000}


class HugeHeaders(Server):
    async def cancel(self, request: Request) -> Response:
        if request.path_params["run_id"] != "run-1":
            return await super().cancel(request)
        return JSONResponse({"run_id": "run-1", "status": "CANCELLED"}, headers=HEADERS)


def create() -> Starlette:
    return factory(HugeHeaders)
