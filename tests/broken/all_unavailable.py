"""Violation: a server that is not serving yet answers every authenticated request 503. Nothing
can be checked, so the run is NOT TESTED (exit 2), not a conformant one with every operation
set aside as unavailable."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from .base import Server, error, factory

DETAIL = "Starting up"


class NotServingYet(Server):
    async def list_workflows(self, request: Request) -> Response:
        return error(503, DETAIL, "SERVICE_UNAVAILABLE")

    async def start_run(self, request: Request) -> Response:
        return error(503, DETAIL, "SERVICE_UNAVAILABLE")

    async def cancel(self, request: Request) -> Response:
        return error(503, DETAIL, "SERVICE_UNAVAILABLE")


def create() -> Starlette:
    return factory(NotServingYet)
