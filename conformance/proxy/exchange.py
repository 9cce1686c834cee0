"""One request and its response as the proxy saw them on the wire, and how to show them safely."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from generator.terminal.text import printable as terminal_printable

# What is kept of each body for the checks, the reports and the HAR; the rest is streamed only.
CHECK_BYTES = 4 * 1024 * 1024
# Headers that are about one connection, never forwarded (RFC 9110 7.6.1), and Host.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Headers whose values are credentials whatever the contract says: never in a report or HAR.
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})
REDACTED = "[redacted]"


@dataclass(slots=True)
class Body:
    """The first CHECK_BYTES of a body, and whether there was more."""

    data: bytearray = field(default_factory=bytearray)
    size: int = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        room = CHECK_BYTES - len(self.data)
        if room > 0:
            self.data += chunk[:room]

    @property
    def complete(self) -> bool:
        return self.size == len(self.data)


@dataclass(slots=True)
class Exchange:
    method: str
    path: str  # as sent to the proxy, percent-encoded, without the query
    query: str  # the raw query string, without `?`
    url: str  # where it was forwarded
    request_headers: list[tuple[str, str]]
    request_body: Body
    started: float  # time.time() when the request arrived
    status: int | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: Body = field(default_factory=Body)
    elapsed: float = 0.0  # seconds until the response ended
    error: str | None = None  # why no response came (already safe to print)

    def decoded_response(self) -> bytes | None:
        """The response body as the checks read it: content-coding undone; None when cut."""
        if not self.response_body.complete:
            return None
        raw = bytes(self.response_body.data)
        coding = header_value(self.response_headers, "content-encoding")
        if coding is None or coding.strip().lower() == "identity":
            return raw
        try:
            if coding.strip().lower() in ("gzip", "x-gzip"):
                return zlib.decompress(raw, 16 + zlib.MAX_WBITS)
            if coding.strip().lower() == "deflate":
                return zlib.decompress(raw)
        except zlib.error:
            return raw
        return None


def header_value(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def printable(text: str, limit: int = 500) -> str:
    """One terminal-safe line of at most `limit` characters: newlines as ` · `, tabs as spaces,
    what `generator.terminal.text.printable` escapes escaped."""
    line = text[:limit].replace("\r\n", "\n").replace("\r", "\n")
    return terminal_printable(line.replace("\n", " · ").replace("\t", " "))
