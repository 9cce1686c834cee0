"""A server whose JSON bodies are not UTF-8: the run must say which request and what to do.

Every JSON body it sends, 2xx and errors alike, has its first string value's opening quote
followed by Latin-1 bytes (`\\xe9\\xff`), under `Content-Type: application/json`, which no UTF-8
decoder accepts.
"""

import re
from typing import Any

from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from .base import Server, factory

STRING_START = re.compile(rb'":\s*"')


class Latin1Bodies:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def garbling(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (k, v) for k, v in message["headers"] if k.lower() != b"content-length"
                ]
            elif message["type"] == "http.response.body":
                message["body"] = STRING_START.sub(
                    lambda m: m.group() + b"\xe9\xff", message.get("body", b""), 1
                )
            await send(message)

        await self.app(scope, receive, garbling)


def create() -> Starlette:
    app = factory(Server)
    app.add_middleware(Latin1Bodies)
    return app
