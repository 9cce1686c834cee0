"""The listening socket of the servers the toolkit runs in front of others (proxy, mock).

Bound here rather than by uvicorn, so that a taken port is one line and exit 2, not a log. The
socket is made with IPPROTO_TCP and TCP_NODELAY: asyncio turns Nagle's algorithm off only for
accepted sockets whose protocol reads IPPROTO_TCP, and `socket.socket(family, SOCK_STREAM)`
reads 0. With Nagle on, a response written as headers, then body waits for the client's delayed
ACK of the headers: 40 ms per keep-alive request (the proxy forwarded 172 requests/s).
"""

from __future__ import annotations

import socket

from generator.spec.errors import UsageError


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, or UsageError naming why not (a taken port: exit 2)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets
    try:
        sock.bind((host, port))
    except (OSError, OverflowError) as exc:
        sock.close()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock
