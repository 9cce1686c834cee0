"""Hostile: cancelling the active run answers a gzip bomb, 1 GiB decoded from about 1 MiB on the
wire (64 gzip members of 16 MiB of zeros each; decoders read every member)."""

import gzip

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from .base import Server, factory

DECODED_BYTES = 1 << 30
MEMBER = gzip.compress(b"\0" * (16 << 20), compresslevel=9)
BOMB = MEMBER * (DECODED_BYTES // (16 << 20))


class GzipBomb(Server):
    async def cancel(self, request: Request) -> Response:
        if request.path_params["run_id"] != "run-1":
            return await super().cancel(request)
        headers = {"Content-Encoding": "gzip"}
        return Response(BOMB, 200, headers=headers, media_type="application/json")


def create() -> Starlette:
    return factory(GzipBomb)
