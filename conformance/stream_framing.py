"""Incremental framing of sequential bodies: server-sent events and JSON Lines / json-seq.

Pure: bytes in (as they arrive), items and framing problems out; no I/O, no clocks.

`SseParser` follows the WHATWG HTML "event stream interpretation" rules: UTF-8 (a leading BOM
dropped), lines ended by CRLF, LF or CR, a blank line dispatches the event, `:` starts a comment,
`field: value` with one leading space of the value removed, `data` lines joined with LF, an event
with no data not dispatched. Where a browser silently ignores something, the contract's framing
is broken and we say so: a field other than event/data/id/retry, a `retry` that is not digits, an
`id` holding NUL, bytes that are not UTF-8, and an event the stream ended in the middle of.

`LineParser` splits JSON Lines / NDJSON on LF (a CR before it dropped) and json-seq (RFC 7464)
on the record separator; each record must be one JSON value, and the last one must be ended.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field
from typing import Any

# At most this many characters of a server's text in a problem's message.
SHOWN = 80
FIELDS = frozenset({"event", "data", "id", "retry"})
_LINE_END = re.compile(r"\r\n|\r|\n")
RECORD_SEPARATOR = "\x1e"


def shown(text: str, limit: int = SHOWN) -> str:
    """Server text made safe for a one-line message: control characters escaped, cut short."""
    escaped = text.encode("unicode_escape").decode("ascii")
    return escaped if len(escaped) <= limit else escaped[:limit] + "…"


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event, as the item schema sees it (fields the event did not set absent)."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None

    @property
    def name(self) -> str:
        """The event type a browser dispatches: `message` when no `event` field set it."""
        return self.event or "message"

    def as_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {"data": self.data}
        if self.event is not None:
            item["event"] = self.event
        if self.id is not None:
            item["id"] = self.id
        if self.retry is not None:
            item["retry"] = self.retry
        return item


@dataclass(frozen=True, slots=True)
class JsonRecord:
    """One JSON Lines line / json-seq record: its text and its value (None when not JSON)."""

    text: str
    value: Any = None
    error: str | None = None  # why the text is not one JSON value


Item = SseEvent | JsonRecord


@dataclass(slots=True)
class _Pending:
    data: list[str] = field(default_factory=list)
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    lines: int = 0


class SseParser:
    """Feed bytes; get the events they complete and the framing problems they show."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self._text = ""
        self._started = False
        self._pending = _Pending()
        self._bad_utf8 = False
        self._cr_at_end = False
        self.problems: list[str] = []

    def feed(self, chunk: bytes) -> list[SseEvent]:
        try:
            text = self._decoder.decode(chunk)
        except UnicodeDecodeError:
            if not self._bad_utf8:
                self.problems.append("bytes that are not UTF-8")
                self._bad_utf8 = True
            self._decoder.reset()
            text = chunk.decode("utf-8", errors="replace")
        return self._lines(text)

    def close(self) -> list[SseEvent]:
        """The stream ended: an event without its blank line is not dispatched (a problem)."""
        events = self._lines(self._decoder.decode(b"", final=True) if not self._bad_utf8 else "")
        rest = self._text
        if rest:  # a last line without its line end
            self._text = ""
            self._line(rest)
        if self._pending.lines:
            self.problems.append("the stream ended in the middle of an event (no blank line)")
        self._pending = _Pending()
        return events

    def _lines(self, text: str) -> list[SseEvent]:
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._cr_at_end and text.startswith("\n"):
            text = text[1:]  # the LF of a CRLF split across chunks
        self._cr_at_end = False
        self._text += text
        events: list[SseEvent] = []
        start = 0
        for match in _LINE_END.finditer(self._text):
            if match.group() == "\r" and match.end() == len(self._text):
                self._cr_at_end = True  # may be the first half of a CRLF: a line end either way
            event = self._line(self._text[start : match.start()])
            if event is not None:
                events.append(event)
            start = match.end()
        self._text = self._text[start:]
        return events

    def _line(self, line: str) -> SseEvent | None:
        pending = self._pending
        if line == "":
            self._pending = _Pending()
            if not pending.data:
                return None
            return SseEvent("\n".join(pending.data), pending.event, pending.id, pending.retry)
        pending.lines += 1
        if line.startswith(":"):
            pending.lines -= 1  # a comment (keep-alive) is not part of an event
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            pending.data.append(value)
        elif name == "event":
            pending.event = value
        elif name == "id":
            if "\x00" in value:
                self.problems.append(f"an id field holding NUL: {shown(line)}")
            else:
                pending.id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                pending.retry = int(value)
            else:
                self.problems.append(f"a retry field that is not digits: {shown(line)}")
        else:
            what = "a field" if colon else "a line without a colon, read as a field"
            self.problems.append(f"{what} other than event, data, id, retry: {shown(line)}")
        return None


class LineParser:
    """JSON Lines / NDJSON (LF-separated) or json-seq (RS-prefixed) records."""

    def __init__(self, *, json_seq: bool = False) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._json_seq = json_seq
        self.problems: list[str] = []

    def feed(self, chunk: bytes) -> list[JsonRecord]:
        self._buffer += self._decoder.decode(chunk)
        separator = RECORD_SEPARATOR if self._json_seq else "\n"
        *complete, self._buffer = self._buffer.split(separator)
        return [r for r in (self._record(text) for text in complete) if r is not None]

    def close(self) -> list[JsonRecord]:
        self._buffer += self._decoder.decode(b"", final=True)
        rest, self._buffer = self._buffer, ""
        if self._json_seq:
            record = self._record(rest)  # RFC 7464: a record ends at the next RS or the end
            return [record] if record is not None else []
        if rest.strip():
            self.problems.append(f"the last line has no line end: {shown(rest)}")
            record = self._record(rest)
            return [record] if record is not None else []
        return []

    def _record(self, text: str) -> JsonRecord | None:
        if self._json_seq:
            text = text.rstrip("\n")
        else:
            text = text.removesuffix("\r")
        if text.strip() == "":
            if not self._json_seq and text:
                self.problems.append("a line with only white space")
            return None
        try:
            return JsonRecord(text, json.loads(text))
        except ValueError as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            return JsonRecord(text, None, f"not JSON ({reason}): {shown(text)}")


def parser_for(media_type: str) -> SseParser | LineParser:
    if media_type == "text/event-stream":
        return SseParser()
    return LineParser(json_seq=media_type == "application/json-seq")
