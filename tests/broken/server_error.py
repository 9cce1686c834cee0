"""Violation 6: a 5xx. Cancelling in an unknown workflow fails (a lookup bug) with the declared
500 body: declared or not, a 5xx is a finding."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from .base import Server, error, factory


class FailsOnUnknownWorkflows(Server):
    async def cancel(self, request: Request) -> Response:
        if request.path_params["workflow_id"] != "demo":
            return error(500, "Failed to cancel workflow run", "INTERNAL_SERVER_ERROR")
        return await super().cancel(request)


def create() -> Starlette:
    return factory(FailsOnUnknownWorkflows)
