"""Violation 3: a content type the operation does not declare for that status (404 as text)."""

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response

from .base import Server, factory


class TextNotFound(Server):
    def not_found(self, detail: str, code: str) -> Response:
        return PlainTextResponse(f"{code}: {detail}", 404)


def create() -> Starlette:
    return factory(TextNotFound)
