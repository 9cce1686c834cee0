"""Streaming responses of a document: sequential media types, their item schemas, ends-stream links.

A response streams when one of its media types is sequential (OpenAPI 3.2 §4.14.4:
`text/event-stream`, `application/jsonl`, `application/x-ndjson`, `application/json-seq`); the
media type object's `itemSchema` describes each item. OpenAPI 3.2 documents define it, and
FastAPI writes it into the 3.1 documents of its own SSE endpoints, so both are read.

For SSE, an item is one event: an object with `event`, `data`, `id` and `retry`. Typed events are
`oneOf` branches whose `event` is a `const` and whose `data` is a string with
`contentMediaType: application/json` and a `contentSchema` (`sse_events`).

A Link of a streaming response marked `x-contract-ends-stream: true` says that following it
while the stream is open ends the stream; `x-contract-terminal-event` names its last event.

Public API (also used by `conformance`):

- `iter_streams(document)` → every `StreamResponse`, in document order.
- `sse_events(document, item_schema)` → event name → schema of its JSON data, or None.
- `is_sequential(media_type)`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from generator.spec.openapi import follow_refs, iter_operations
from generator.spec.pointers import escape_pointer

SSE = "text/event-stream"
SEQUENTIAL_MEDIA_TYPES = frozenset(
    {SSE, "application/jsonl", "application/x-ndjson", "application/json-seq"}
)
ENDS_STREAM = "x-contract-ends-stream"
TERMINAL_EVENT = "x-contract-terminal-event"


def is_sequential(media_type: str) -> bool:
    """Whether a media type (parameters ignored) carries a sequence of items."""
    return media_type.split(";")[0].strip().lower() in SEQUENTIAL_MEDIA_TYPES


@dataclass(frozen=True, slots=True)
class StreamLink:
    """A Link of a streaming response marked `x-contract-ends-stream: true` ($refs followed)."""

    name: str
    operation_id: str | None
    operation_ref: str | None
    parameters: Mapping[str, Any]  # as the Link spells them: name → runtime expression or value
    terminal_event: str | None  # `x-contract-terminal-event`: the stream's last event
    pointer: str  # where the Link object is


@dataclass(frozen=True, slots=True)
class StreamResponse:
    """One sequential media type of one (operation, status)."""

    path: str
    method: str  # lower case, as in the document
    operation_id: str | None
    status: str  # "200", "2XX" or "default"
    media_type: str
    item_schema: Any  # the `itemSchema` as written ($refs not followed); None when absent
    pointer: str  # of the media type object
    ends_stream: tuple[StreamLink, ...]  # the response's ends-stream links

    @property
    def is_sse(self) -> bool:
        return self.media_type.split(";")[0].strip().lower() == SSE


def iter_streams(document: Mapping[str, Any]) -> Iterator[StreamResponse]:
    """Every sequential media type of every response, in document order."""
    for op in iter_operations(document):
        responses = op.operation.get("responses")
        if not isinstance(responses, dict):
            continue
        for status, raw in responses.items():
            end = follow_refs(document, raw, f"{op.pointer}/responses/{escape_pointer(status)}")
            response = end.value
            if not end.complete or not isinstance(response, dict):
                continue
            content = response.get("content")
            if not isinstance(content, dict):
                continue
            links = _ends_stream_links(document, response, end.pointer)
            for media_type, media in content.items():
                if not is_sequential(str(media_type)) or not isinstance(media, dict):
                    continue
                operation_id = op.operation.get("operationId")
                yield StreamResponse(
                    path=op.path,
                    method=op.method,
                    operation_id=operation_id if isinstance(operation_id, str) else None,
                    status=str(status),
                    media_type=str(media_type),
                    item_schema=media.get("itemSchema"),
                    pointer=f"{end.pointer}/content/{escape_pointer(str(media_type))}",
                    ends_stream=links,
                )


def _ends_stream_links(
    document: Mapping[str, Any], response: Mapping[str, Any], pointer: str
) -> tuple[StreamLink, ...]:
    links = response.get("links")
    found: list[StreamLink] = []
    for name, raw in links.items() if isinstance(links, dict) else ():
        end = follow_refs(document, raw, f"{pointer}/links/{escape_pointer(str(name))}")
        link = end.value
        if not end.complete or not isinstance(link, dict) or link.get(ENDS_STREAM) is not True:
            continue
        parameters = link.get("parameters")
        terminal = link.get(TERMINAL_EVENT)
        found.append(
            StreamLink(
                name=str(name),
                operation_id=_text(link.get("operationId")),
                operation_ref=_text(link.get("operationRef")),
                parameters=dict(parameters) if isinstance(parameters, dict) else {},
                terminal_event=terminal if isinstance(terminal, str) else None,
                pointer=end.pointer,
            )
        )
    return tuple(found)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def sse_events(document: Mapping[str, Any], item_schema: Any) -> dict[str, Any] | None:
    """The event names an SSE item schema allows, each with the schema of its JSON data.

    The value is the `contentSchema` when `data` is declared as JSON
    (`contentMediaType: application/json`), else None (the data is any text). The answer is None
    when the item schema does not restrict event names (no `oneOf`/`anyOf` of `const` events,
    no `const`/`enum` on `event`).
    """
    schema = _deref(document, item_schema)
    if not isinstance(schema, dict):
        return None
    branches = schema.get("oneOf", schema.get("anyOf"))
    if not isinstance(branches, list):
        branches = [schema]
    result: dict[str, Any] = {}
    for raw_branch in branches:
        branch = _deref(document, raw_branch)
        if not isinstance(branch, dict):
            return None
        properties = branch.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        names = _event_names(_deref(document, properties.get("event")))
        if names is None:
            return None
        data = _deref(document, properties.get("data"))
        content: Any = None
        if isinstance(data, dict) and _is_json(data.get("contentMediaType")):
            content = data.get("contentSchema", {})
        for name in names:
            result.setdefault(name, content)
    return result


def _event_names(schema: Any) -> list[str] | None:
    if not isinstance(schema, dict):
        return None
    if isinstance(schema.get("const"), str):
        return [schema["const"]]
    values = schema.get("enum")
    if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
        return list(values)
    return None


def _is_json(media_type: Any) -> bool:
    if not isinstance(media_type, str):
        return False
    base = media_type.split(";")[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


def _deref(document: Mapping[str, Any], value: Any) -> Any:
    end = follow_refs(document, value)
    return end.value if end.complete else None
