"""Hostile: bodies written to break terminals and reports. Listing the workflows answers valid JSON
whose values (which a schema-mismatch message quotes) hold terminal escapes, NUL, a bidi
override, Markdown that closes fences and starts headings, and XML that closes elements;
cancelling the active run answers the same text raw, as a body that is not JSON."""

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from .base import Server, factory

# ESC ] 0 ; sets the terminal title, ESC [ 2 J clears the screen, BEL rings.
NASTY = (
    "\x1b]0;pwned\x07\x1b[2J\x00\u202e\x7f\x9b"
    "\n~~~\n# PWNED heading\n| a | b |\n`code`\n"
    '</failure></testcase><testcase name="injected">]]>&amp;\x0c'
)
LISTING = json.dumps([{"id": NASTY, "name": 42, "description": NASTY}]).encode()
RAW = NASTY.encode("utf-8")


class HostileText(Server):
    async def list_workflows(self, request: Request) -> Response:
        answer = await super().list_workflows(request)
        if answer.status_code != 200:
            return answer
        return Response(LISTING, 200, media_type="application/json")

    async def cancel(self, request: Request) -> Response:
        if request.path_params["run_id"] != "run-1":
            return await super().cancel(request)
        return Response(RAW, 200, headers={"X-Nasty": "a\tb"}, media_type="application/json")


def create() -> Starlette:
    return factory(HostileText)
