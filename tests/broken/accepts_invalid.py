"""Violation 7: a request that violates the schema accepted with 2xx (`limit` is not checked)."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .base import WORKFLOWS, Server, factory


class Lenient(Server):
    async def list_workflows(self, request: Request) -> Response:
        return JSONResponse(WORKFLOWS)


def create() -> Starlette:
    return factory(Lenient)
