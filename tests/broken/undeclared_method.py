"""Violation 5: an undeclared method answered with 2xx (GET on the cancel path reads the run)."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .base import Server, factory


class ReadableCancel(Server):
    async def other_method(self, request: Request, allowed: str) -> Response:
        if request.method == "GET" and "run_id" in request.path_params:
            return JSONResponse({"run_id": request.path_params["run_id"], "status": "RUNNING"})
        return await super().other_method(request, allowed)


def create() -> Starlette:
    return factory(ReadableCancel)
