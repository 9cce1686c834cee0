"""Violation 2: an error body that does not match its declared schema.

404 answers `{"message": ...}`, while `NotFoundResponse` requires `detail`.
"""

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response

from .base import Server, factory


class SchemaMismatch(Server):
    def not_found(self, detail: str, code: str) -> Response:
        return JSONResponse({"message": detail, "code": code}, 404)


def create() -> Starlette:
    return factory(SchemaMismatch)
