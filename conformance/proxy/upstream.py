"""Keep-alive connections to the one upstream, handed out last in, first out.

Each connection is httpcore's own `AsyncHTTPConnection` (h11, timeouts, TLS and streaming are the
library's). What is ours is only the free list: httpcore's `AsyncConnectionPool` is written for
many origins and, on every request and every release, walks all its connections asking each
whether it expired (a poll and a getpeername system call apiece): measured here, 19 such checks
per forwarded request, a third of the proxy's time. A proxy in front of one origin needs a stack
of idle connections and one expiry check on the connection it takes.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpcore

# Idle connections kept open; more concurrent requests than this open connections of their own.
MAX_IDLE = 64
KEEPALIVE_SECONDS = 5.0  # below uvicorn's own keep-alive timeout of 5 s, so we close first


class Upstream:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        scheme = parts.scheme.encode("ascii")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        self.origin = httpcore.Origin(scheme, (parts.hostname or "").encode("ascii"), port)
        self.idle: list[httpcore.AsyncHTTPConnection] = []

    async def take(self) -> httpcore.AsyncHTTPConnection:
        """An idle connection that has not expired, or a new one (it connects on first use)."""
        while self.idle:
            connection = self.idle.pop()
            if connection.is_idle() and not connection.has_expired():
                return connection
            await connection.aclose()  # closed by the upstream while idle, or past its expiry
        return httpcore.AsyncHTTPConnection(self.origin, keepalive_expiry=KEEPALIVE_SECONDS)

    async def give_back(self, connection: httpcore.AsyncHTTPConnection) -> None:
        """After the response was closed: kept for the next request if it can carry one."""
        if connection.is_idle() and len(self.idle) < MAX_IDLE:
            self.idle.append(connection)
        else:
            await connection.aclose()

    async def aclose(self) -> None:
        idle, self.idle = self.idle, []
        for connection in idle:
            await connection.aclose()
