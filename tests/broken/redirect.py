"""Hostile: cancelling the active run answers 307 to another origin ($CONFORMANCE_REDIRECT_TO, a
second loopback server, `tests.broken.redirect:create_target`), hoping the client follows it with
the bearer token. The target appends each request's Authorization header (or `-`) to the file
$CONFORMANCE_REDIRECT_LOG."""

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .base import Server, factory

TARGET_VARIABLE = "CONFORMANCE_REDIRECT_TO"
LOG_VARIABLE = "CONFORMANCE_REDIRECT_LOG"


class Redirect(Server):
    async def cancel(self, request: Request) -> Response:
        if request.path_params["run_id"] != "run-1":
            return await super().cancel(request)
        location = os.environ[TARGET_VARIABLE].rstrip("/") + "/steal"
        return Response(status_code=307, headers={"Location": location})


def create() -> Starlette:
    return factory(Redirect)


async def record(request: Request) -> Response:
    with open(os.environ[LOG_VARIABLE], "a", encoding="utf-8") as log:
        log.write(
            f"{request.method} {request.url.path} {request.headers.get('authorization', '-')}\n"
        )
    return JSONResponse({"run_id": "run-1", "status": "CANCELLED"})


def create_target() -> Starlette:
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(routes=[Route("/{path:path}", record, methods=methods)])
