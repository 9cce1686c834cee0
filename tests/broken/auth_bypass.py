"""Violation 4: authentication that accepts no credentials and the token under any scheme.

A request without an Authorization header is served as anonymous, and the token is compared
without looking at the scheme (`Basic <token>` passes). Only a wrong token is refused (with 401).
Successful answers echo the credential they were given, which the report must redact.
"""

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .base import Server, error, factory


class AuthBypass(Server):
    async def authenticate(self, request: Request) -> Response | None:
        header = request.headers.get("authorization")
        if header is None or header.partition(" ")[2] == self.token:
            return None
        return error(401, "Not authenticated", "UNAUTHENTICATED")

    async def cancel(self, request: Request) -> Response:
        response = await super().cancel(request)
        if response.status_code != 200:
            return response
        body = json.loads(bytes(response.body))
        body["credential"] = request.headers.get("authorization", "anonymous")
        return JSONResponse(body)


def create() -> Starlette:
    return factory(AuthBypass)
