"""Violation 6: a 5xx. Long run ids make it fail, with the declared 500 body: still a finding."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from .base import Server, error, factory


class FailsOnLongIds(Server):
    async def cancel(self, request: Request) -> Response:
        if len(request.path_params["run_id"]) > 6:
            return error(500, "Failed to cancel workflow run", "INTERNAL_SERVER_ERROR")
        return await super().cancel(request)


def create() -> Starlette:
    return factory(FailsOnLongIds)
