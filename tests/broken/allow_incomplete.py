"""Violation 5b: a 405 whose `Allow` leaves out the declared method. Every undeclared method is
refused with 405 as it should be, but `Allow` always says GET, as Starlette's 405 names only the
first route of a path served by several: on the POST paths it denies the declared POST."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from .base import Server, error, factory


class FirstRouteOnly(Server):
    async def other_method(self, request: Request, allowed: str) -> Response:
        return error(405, "Method Not Allowed", "METHOD_NOT_ALLOWED", {"Allow": "GET"})


def create() -> Starlette:
    return factory(FirstRouteOnly)
