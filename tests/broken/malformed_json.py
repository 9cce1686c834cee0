"""Hostile: listing the workflows answers 200 `application/json` that is not JSON (cut short)."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from .base import Server, factory


class MalformedJson(Server):
    async def list_workflows(self, request: Request) -> Response:
        answer = await super().list_workflows(request)
        if answer.status_code != 200:
            return answer
        return Response(b'[{"id": "demo", "name": ', 200, media_type="application/json")


def create() -> Starlette:
    return factory(MalformedJson)
