"""Violation 1: statuses the operations do not declare.

A wrong or missing token gets 403 (only 401 is declared), and `GET /workflows` answers a limit above
50 with 409, which only the operation's `default` response covers.
"""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from .base import Server, error, factory


class UndeclaredStatus(Server):
    async def authenticate(self, request: Request) -> Response | None:
        rejection = await super().authenticate(request)
        if rejection is not None:
            return error(403, "Forbidden", "FORBIDDEN")
        return None

    async def list_workflows(self, request: Request) -> Response:
        limit = request.query_params.get("limit", "")
        if limit.isascii() and limit.isdigit() and 50 < int(limit) <= 100:
            return error(409, "too many workflows requested", "CONFLICT")
        return await super().list_workflows(request)


def create() -> Starlette:
    return factory(UndeclaredStatus)
