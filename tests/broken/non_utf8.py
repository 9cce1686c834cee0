"""Hostile: listing the workflows answers 200 `application/json` whose strings are not UTF-8."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from .base import Server, factory

BODY = b'[{"id": "\xff\xfe\xfd", "name": "\xc3\x28", "description": null}]'


class NonUtf8(Server):
    async def list_workflows(self, request: Request) -> Response:
        answer = await super().list_workflows(request)
        if answer.status_code != 200:
            return answer
        return Response(BODY, 200, media_type="application/json")


def create() -> Starlette:
    return factory(NonUtf8)
