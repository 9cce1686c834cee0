"""Reading one streaming response incrementally, under limits: events, seconds, bytes.

`read_stream` sends a request with httpx, frames the body as it arrives (`stream_framing`), and
stops at the first of: the server ends the stream, `--stream-max-events` items,
`--stream-timeout` seconds in total (headers included; a silent or dripping stream cannot hold
it longer, for the whole read runs under one `asyncio.timeout`), `--max-response-bytes` bytes.
Memory: at most the byte limit of body plus the items framed from it (each item is bytes of it).
The body is asked for uncompressed (`Accept-Encoding: identity`), so bytes read are bytes framed.

`on_item` is awaited with each item as it is framed, while the stream stays open: the
ends-stream check follows its link from there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import httpx

from .stream_framing import Item, parser_for

EXCERPT_BYTES = 1200


@dataclass(frozen=True, slots=True)
class StreamLimits:
    max_events: int
    seconds: float
    max_bytes: int


@dataclass(frozen=True, slots=True)
class StreamRequest:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None


@dataclass(slots=True)
class StreamRead:
    """What one read saw. `ended` is how it stopped: `closed` (the server ended it), `events`,
    `timeout`, `bytes` (a limit), `error` (the connection failed: `error` says why)."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str | None = None
    items: list[Item] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ended: str = "error"
    error: str | None = None
    size: int = 0
    excerpt: bytes = b""
    elapsed: float = 0.0
    # Seconds from the start of the read to the last item, and to the end of the read.
    last_item_at: float | None = None
    # When `on_item` marked the moment it acted (the ends-stream check: the link call).
    mark: float | None = None
    started: float = 0.0  # time.monotonic() when the read began
    # The read's deadline while it runs: `on_item` may move it (`extend`).
    scope: asyncio.Timeout | None = None

    def since_mark(self) -> float | None:
        """Seconds from the mark to the last item (None without both)."""
        if self.mark is None or self.last_item_at is None:
            return None
        return max(0.0, self.started + self.last_item_at - self.mark)

    def extend(self, seconds: float) -> None:
        """From now on, the read may last `seconds` more (the time after a link call)."""
        if self.scope is not None:
            self.scope.reschedule(asyncio.get_running_loop().time() + seconds)

    @property
    def framed(self) -> bool:
        return self.ended in ("closed", "events", "timeout", "bytes")


OnItem = Callable[[Item, "StreamRead"], Awaitable[None]]


async def read_stream(
    client: httpx.AsyncClient,
    request: StreamRequest,
    limits: StreamLimits,
    *,
    media_type: str,
    on_item: OnItem | None = None,
) -> StreamRead:
    """Read the stream of `request` as `media_type` until it ends or a limit stops it."""
    read = StreamRead()
    started = read.started = time.monotonic()
    try:
        async with asyncio.timeout(limits.seconds) as read.scope:
            await _read(client, request, limits, media_type, on_item, read, started)
    except TimeoutError:
        read.ended = "timeout"
    except httpx.HTTPError as exc:
        read.ended = "error"
        read.error = _reason(exc)
    read.elapsed = time.monotonic() - started
    read.scope = None
    return read


async def _read(
    client: httpx.AsyncClient,
    request: StreamRequest,
    limits: StreamLimits,
    media_type: str,
    on_item: OnItem | None,
    read: StreamRead,
    started: float,
) -> None:
    headers = {**request.headers, "Accept-Encoding": "identity"}
    async with client.stream(
        request.method, request.url, headers=headers, content=request.body
    ) as response:
        read.status = response.status_code
        read.headers = {k: v for k, v in response.headers.items()}
        received = response.headers.get("content-type", "")
        read.media_type = received.split(";")[0].strip().lower() or None
        if read.media_type != media_type:
            read.excerpt = await _excerpt(response, limits.max_bytes)
            read.ended = "closed"
            return
        parser = parser_for(media_type)
        # Without a chunk size, httpx yields what each socket read returns (at most 64 KiB), as
        # it arrives; a chunk size would hold items back until that many bytes came.
        async for chunk in response.aiter_raw():
            if read.size + len(chunk) > limits.max_bytes:
                chunk = chunk[: limits.max_bytes - read.size]
                read.ended = "bytes"
            read.size += len(chunk)
            if len(read.excerpt) < EXCERPT_BYTES:
                read.excerpt += chunk[: EXCERPT_BYTES - len(read.excerpt)]
            for item in parser.feed(chunk):
                if await _take(item, read, limits, on_item, started):
                    read.problems += parser.problems
                    return
            if read.ended == "bytes":
                read.problems += parser.problems
                return
        for item in parser.close():
            if await _take(item, read, limits, on_item, started):
                break
        read.problems += parser.problems
        read.ended = "closed" if read.ended != "events" else "events"


async def _take(
    item: Item, read: StreamRead, limits: StreamLimits, on_item: OnItem | None, started: float
) -> bool:
    """Keep the item; True once the event limit is reached."""
    read.items.append(item)
    read.last_item_at = time.monotonic() - started
    if on_item is not None:
        await on_item(item, read)
    if len(read.items) >= limits.max_events:
        read.ended = "events"
        return True
    return False


async def _excerpt(response: httpx.Response, max_bytes: int) -> bytes:
    """The start of a body that is not the stream (an error answer), within the byte limit."""
    kept = b""
    async for chunk in response.aiter_raw():
        kept += chunk[: min(EXCERPT_BYTES, max_bytes) - len(kept)]
        if len(kept) >= min(EXCERPT_BYTES, max_bytes):
            break
    return kept


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:120]}" if text and text[0] else type(exc).__name__
