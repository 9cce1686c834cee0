"""The proxy itself: an ASGI app that forwards each request and streams each response back.

The upstream is reached with httpcore, the transport under httpx, streaming both ways, over a
free list of its connections (`upstream.py`).

Nothing is changed on the way but the connection's own headers (hop-by-hop ones, and `Host`,
which names the upstream). Bodies are streamed in both directions chunk by chunk; the first
`CHECK_BYTES` of each are kept for the checks. Once a response has ended, its exchange goes to
`on_exchange` (the judge, on another thread), so checking never holds up the client.

With `strict`, a response is read whole first and judged before anything is sent: a violating
one is replaced by the contract's declared 5xx (see `strict.py`). Streams (sequential media
types) cannot wait to be judged whole and go through unchecked-before-sending even then.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpcore

from .exchange import HOP_BY_HOP, Body, Exchange, printable
from .upstream import Upstream

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
# (exchange) -> None: called once the response has ended (or failed).
OnExchange = Callable[[Exchange], None]
# (exchange) -> a replacement (status, headers, body) for a violating response, or None.
StrictJudge = Callable[[Exchange], Awaitable[tuple[int, list[tuple[str, str]], bytes] | None]]

UPSTREAM_ERRORS = (
    httpcore.NetworkError,
    httpcore.TimeoutException,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
)
STREAMING_TYPES = (
    "text/event-stream",
    "application/jsonl",
    "application/x-ndjson",
    "application/json-seq",
)


class ProxyApp:
    def __init__(
        self,
        upstream: str,
        on_exchange: OnExchange,
        *,
        strict: StrictJudge | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.host = urlsplit(self.upstream).netloc.encode("ascii")
        self.on_exchange = on_exchange
        self.strict = strict
        self.timeout = timeout
        self.connections = Upstream(self.upstream)
        self.timeouts = {"connect": 10.0, "read": timeout, "write": timeout, "pool": timeout}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._forward(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.connections.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        path = raw_path.decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        url = self.upstream + path + (f"?{query}" if query else "")
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope.get("headers", ())
            if k.decode("latin-1").lower() not in HOP_BY_HOP and k.lower() != b"host"
        ]
        exchange = Exchange(
            method=scope["method"],
            path=scope["path"],
            query=query,
            url=url,
            request_headers=headers,
            request_body=Body(),
            started=time.time(),
        )
        began = time.monotonic()
        names = {name.lower() for name, _ in headers}
        has_body = "content-length" in names or b"chunked" in _header(scope, b"transfer-encoding")
        content = _request_body(receive, exchange) if has_body else None
        request = httpcore.Request(
            scope["method"],
            url,
            headers=[
                (b"Host", self.host),
                *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers),
            ],
            content=content if content is not None else b"",
            extensions={"timeout": self.timeouts},
        )
        connection = await self.connections.take()
        try:
            upstream = await connection.handle_async_request(request)
        except UPSTREAM_ERRORS as exc:
            await connection.aclose()
            exchange.error = f"the upstream did not answer: {type(exc).__name__}"
            exchange.elapsed = time.monotonic() - began
            self.on_exchange(exchange)
            await _plain(send, 502, "the upstream did not answer")
            return
        try:
            exchange.status = upstream.status
            exchange.response_headers = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in upstream.headers
            ]
            forwarded = [
                (k, v) for k, v in upstream.headers if k.decode("latin-1").lower() not in HOP_BY_HOP
            ]
            if self.strict is not None and not _is_stream(exchange):
                await self._strictly(upstream, exchange, forwarded, send, began)
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": upstream.status,
                    "headers": forwarded,
                }
            )
            async for chunk in _chunks(upstream):
                exchange.response_body.add(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except UPSTREAM_ERRORS as exc:
            exchange.error = printable(f"the upstream response broke off: {type(exc).__name__}")
            exchange.status = None
        finally:
            await upstream.aclose()
            await self.connections.give_back(connection)
            exchange.elapsed = time.monotonic() - began
        self.on_exchange(exchange)

    async def _strictly(
        self,
        upstream: httpcore.Response,
        exchange: Exchange,
        forwarded: list[tuple[bytes, bytes]],
        send: Send,
        began: float,
    ) -> None:
        chunks: list[bytes] = []
        async for chunk in _chunks(upstream):
            exchange.response_body.add(chunk)
            chunks.append(chunk)
        exchange.elapsed = time.monotonic() - began
        assert self.strict is not None
        replacement = await self.strict(exchange)
        if replacement is None:
            await send(
                {"type": "http.response.start", "status": exchange.status, "headers": forwarded}
            )
            await send({"type": "http.response.body", "body": b"".join(chunks)})
            return
        status, headers, body = replacement
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _chunks(response: httpcore.Response) -> AsyncIterator[bytes]:
    """The body as it arrives, content coding untouched (the client gets it as sent)."""
    stream = response.stream
    assert isinstance(stream, AsyncIterable)
    async for chunk in stream:
        if chunk:
            yield chunk


async def _request_body(receive: Receive, exchange: Exchange) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk: bytes = message.get("body", b"")
        if chunk:
            exchange.request_body.add(chunk)
            yield chunk
        if not message.get("more_body", False):
            return


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).lower()
    return b""


def _is_stream(exchange: Exchange) -> bool:
    for name, value in exchange.response_headers:
        if name.lower() == "content-type":
            return value.split(";")[0].strip().lower() in STREAMING_TYPES
    return False


async def _plain(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail, "error_code": "BAD_GATEWAY"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
