"""HTTP to an untrusted server with bounds: bytes per response, and total time per request.

`requests` alone bounds neither: its timeout is per socket read (a server that drips a byte every
half second holds a request forever), and `response.content` reads whatever the server sends,
decompressed (a gzip bomb of 4 MiB is 4 GiB in memory). `BoundedAdapter`, mounted on a session,
makes every request through it:

- end within `Limits.seconds` in total, headers and body included: a watchdog timer shuts the
  connection's socket down at the deadline and the request raises `RequestDeadlineExceeded`
  (a `requests.Timeout`, so it reads as the timeout it is);
- read at most `Limits.max_bytes` of body, counted on the wire and decoded, in chunks of
  `CHUNK_BYTES` decoded by urllib3 with a bound on each chunk's output: beyond it the request
  raises `ResponseTooLarge`;
- turn a body that cannot be decoded, or headers over http.client's limits, into
  `UnreadableResponse`.

Both exceptions subclass `requests.exceptions.ChunkedEncodingError`, a transport error: callers
(Schemathesis' engine included) record the request without a response and report the error.

Memory per request in flight: at most `max_bytes` of body plus one chunk, plus http.client's own
header limits (100 header lines of at most 64 KiB each).

Event streams (`text/event-stream`) are not read here: their reader stops them at its own time
and event limits; the byte limit still applies, as the end of the stream.
"""

from __future__ import annotations

import http.client
import socket
import threading
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import DecodeError, HTTPError, ProtocolError
from urllib3.response import BaseHTTPResponse

DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
EVENT_STREAM = "text/event-stream"
LIMIT_OPTION = "(--max-response-bytes)"


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int  # of one response body, on the wire and decoded
    seconds: float  # one request in total: connecting, headers, body


class UnreadableResponse(requests.exceptions.ChunkedEncodingError):
    """The server sent a response the runner will not read: a finding about that server."""

    def __init__(self, reason: str, *, request: requests.PreparedRequest | None = None) -> None:
        # Schemathesis formats a ChunkedEncodingError from its first argument's `args`, as
        # requests raises it (around a urllib3 ProtocolError).
        super().__init__(ProtocolError(reason), request=request)
        self.reason = reason


class ResponseTooLarge(UnreadableResponse):
    """The body went past `--max-response-bytes`, on the wire or decoded."""


class RequestDeadlineExceeded(requests.exceptions.ReadTimeout):
    """The whole request took longer than its time limit."""

    def __init__(self, seconds: float, *, request: requests.PreparedRequest | None = None) -> None:
        # Schemathesis reads the duration of a ReadTimeout from its first argument's message, in
        # urllib3's words: `...(read timeout=N)`.
        message = f"no complete response within {seconds:g} s (read timeout={seconds:g})"
        super().__init__(TimeoutError(message), request=request)


def bounded_session(limits: Limits, session: requests.Session | None = None) -> requests.Session:
    """`session` (a new one by default) with every request bounded by `limits`."""
    session = session if session is not None else requests.Session()
    adapter = BoundedAdapter(limits)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class BoundedAdapter(HTTPAdapter):
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        # Pools that tell the watchdog which connection a request uses.
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPConnectionPool,
            "https": _WatchedHTTPSConnectionPool,
        }

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        watch = _Watch(self.limits.seconds)
        _current.watch = watch
        watch.start()
        try:
            try:
                response = super().send(
                    request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies
                )
            except requests.RequestException as exc:
                raise _explained(exc, request, watch, self.limits) from None
            content_type = response.headers.get("content-type", "")
            if content_type.split(";")[0].strip().lower() == EVENT_STREAM:
                response.raw = _StreamCap(response.raw, self.limits.max_bytes)
                return response
            try:
                response._content = _read_body(response.raw, self.limits.max_bytes)
            except BaseException as exc:
                response.close()
                if isinstance(exc, (HTTPError, OSError, requests.RequestException)):
                    raise _explained(exc, request, watch, self.limits) from None
                raise
            response._content_consumed = True
            return response
        finally:
            watch.cancel()
            _current.watch = None


def _read_body(raw: BaseHTTPResponse, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := raw.read1(CHUNK_BYTES, decode_content=True):
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge(f"its body is over {limit} bytes decoded {LIMIT_OPTION}")
        if raw.tell() > limit:
            raise ResponseTooLarge(f"its body is over {limit} bytes on the wire {LIMIT_OPTION}")
        chunks.append(chunk)
    return b"".join(chunks)


def _explained(
    exc: BaseException, request: requests.PreparedRequest, watch: _Watch, limits: Limits
) -> BaseException:
    """What a failure while reading means, in our terms where we know it; it carries `request`
    (the engine records the request of a failed call from it)."""
    if isinstance(exc, UnreadableResponse):
        exc.request = request
        return exc
    if watch.fired:
        return RequestDeadlineExceeded(limits.seconds, request=request)
    causes = _causes(exc)
    for cause in causes:
        if isinstance(cause, http.client.LineTooLong):
            return UnreadableResponse("a header line over 65536 bytes", request=request)
        if isinstance(cause, http.client.HTTPException) and "more than" in str(cause):
            return UnreadableResponse("more than 100 headers", request=request)
        if isinstance(cause, DecodeError):
            return UnreadableResponse(
                "its body does not decode as its Content-Encoding says", request=request
            )
    if isinstance(exc, requests.RequestException):
        return exc
    if any(isinstance(cause, ProtocolError) for cause in causes):
        return requests.exceptions.ChunkedEncodingError(ProtocolError(str(exc)), request=request)
    return requests.exceptions.ConnectionError(ProtocolError(str(exc)), request=request)


def _causes(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending and len(found) < 20:
        current = pending.pop()
        found.append(current)
        pending += [a for a in current.args if isinstance(a, BaseException)]
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
    return found


class _StreamCap:
    """An event stream's `raw`, ending (as if the server closed it) after `limit` bytes."""

    def __init__(self, raw: BaseHTTPResponse, limit: int) -> None:
        self._raw = raw
        self._left = limit

    def read1(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        if self._left <= 0:
            return b""
        size = min(amt or CHUNK_BYTES, self._left, CHUNK_BYTES)
        chunk = self._raw.read1(size, decode_content=decode_content)
        self._left -= len(chunk)
        return chunk

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        return self.read1(amt, decode_content)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _Watch:
    """Shuts down the sockets of one request's connections once its time is up."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._connections: list[HTTPConnection] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def watch(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connections.append(connection)
            if self.fired:
                _shut(connection)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for connection in self._connections:
                _shut(connection)


def _shut(connection: HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _Current(threading.local):
    watch: _Watch | None = None


_current = _Current()


class _WatchedHTTPConnectionPool(HTTPConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)
        watch = _current.watch
        if watch is not None and isinstance(connection, HTTPConnection):
            watch.watch(connection)
        return connection


class _WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)
        watch = _current.watch
        if watch is not None and isinstance(connection, HTTPConnection):
            watch.watch(connection)
        return connection
