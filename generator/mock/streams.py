"""The mock's streams: one item per event the contract names, spaced out, ended as the links say.

A streaming response (a sequential media type with an `itemSchema`) is answered with the
generated runtime's own stream class, so every item is checked and framed as a real server's
would be. The items are settled from the item schema: for SSE, one event per name the schema
allows, in the order it names them, its data generated from the event's `contentSchema` (its
`examples` first) and validated by the generated data model; for JSON Lines, `ITEMS` items
generated from the item schema. They go out `INTERVAL` seconds apart.

A stream with an `x-contract-ends-stream` link stays true to it: its `x-contract-terminal-event`
is kept back, and a call of the linked operation while the stream is open ends it with that
event (any call: the mock keeps no resources to match). Without such a call the stream ends by
itself after its last item, as a run that completes would.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from generator.spec.openapi import iter_operations
from generator.spec.streams import StreamResponse, iter_streams, sse_events

from .data import CannotGenerate, DataGenerator

INTERVAL = 0.2  # seconds between two items: time for a client to follow an ends-stream link
ITEMS = 3  # items of a JSON Lines stream
ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class StreamKey:
    method: str  # upper case
    path: str
    status: str  # as declared
    media_type: str


class MockStreams:
    """The streaming responses of a document, and the open streams a link call may end."""

    def __init__(self, document: Mapping[str, Any], generator: DataGenerator) -> None:
        self.document = document
        self.generator = generator
        self.streams = {
            StreamKey(s.method.upper(), s.path, s.status, s.media_type): s
            for s in iter_streams(document)
        }
        self.operation_ids = {
            (ref.method.upper(), ref.path): ref.operation.get("operationId")
            for ref in iter_operations(document)
        }
        self.waiting: dict[str, set[asyncio.Event]] = {}  # linked operationId -> open streams

    def has(self, key: StreamKey) -> bool:
        return key in self.streams

    def called(self, method: str, path: str) -> None:
        """An operation was called: the open streams whose ends-stream link names it end."""
        operation_id = self.operation_ids.get((method, path))
        for ended in self.waiting.get(str(operation_id), set()) if operation_id else ():
            ended.set()

    def items(self, key: StreamKey, response_class: Any, rng: random.Random) -> AsyncIterator[Any]:
        """The stream's items, as instances of the generated item classes."""
        stream = self.streams[key]
        terminals = {link.terminal_event for link in stream.ends_stream if link.terminal_event}
        if stream.is_sse:
            built = self._events(stream, response_class, rng)
        else:
            built = [(None, self._line(stream, response_class, rng)) for _ in range(ITEMS)]
        built = [(name, item) for name, item in built if item is not None]
        regular = [item for name, item in built if name not in terminals]
        last = next((item for name, item in built if name in terminals), None)
        links = [link.operation_id for link in stream.ends_stream if link.operation_id]
        return self._flow(regular, last, links)

    async def _flow(self, regular: list[Any], last: Any, links: list[str]) -> AsyncIterator[Any]:
        ended = asyncio.Event()
        for operation_id in links:
            self.waiting.setdefault(operation_id, set()).add(ended)
        try:
            for number, item in enumerate(regular):
                if number:
                    try:
                        await asyncio.wait_for(ended.wait(), INTERVAL)
                    except TimeoutError:
                        pass
                if ended.is_set():
                    break
                yield item
            if ended.is_set() and last is not None:
                yield last
        finally:
            for operation_id in links:
                self.waiting.get(operation_id, set()).discard(ended)

    def _events(
        self, stream: StreamResponse, response_class: Any, rng: random.Random
    ) -> list[tuple[str | None, Any]]:
        classes = response_class.item_types()
        declared = sse_events(self.document, stream.item_schema)
        # Without named events, one event of the open item class, its data from no schema.
        named: list[tuple[str | None, Any]] = list(declared.items()) if declared else [(None, None)]
        events: list[tuple[str | None, Any]] = []
        for name, schema in named:
            item_class = next(
                (c for c in classes if c.event_names is None or name in c.event_names), None
            )
            if item_class is None:
                continue
            data = self._data(item_class, schema, rng)
            if data is not None:
                event = {"event": name} if name is not None else {}
                events.append((name, item_class(data=data, **event)))
        return events

    def _data(self, item_class: Any, schema: Any, rng: random.Random) -> Any:
        if not item_class.data_is_json:
            return "mock"
        return self._valid(item_class.data_adapter(), schema or {}, rng)

    def _line(self, stream: StreamResponse, response_class: Any, rng: random.Random) -> Any:
        return self._valid(response_class.item_adapter(), stream.item_schema or {}, rng)

    def _valid(self, adapter: Any, schema: Any, rng: random.Random) -> Any:
        """A value of `schema` the generated model accepts, as that model; None if none is."""
        for attempt in range(ATTEMPTS):
            try:
                value = self.generator.value(schema, rng, prefer_examples=attempt == 0)
                return adapter.validate_python(value)
            except (CannotGenerate, ValidationError):
                continue
        return None
