"""What a contract says about its streams: per (operation, status), the sequential media types,
their item schemas, and the links marked `x-contract-ends-stream`.

One function is the boundary, `stream_responses(document)`: it reads a loaded (validated)
OpenAPI 3.1 or 3.2 document and knows nothing else of the suite, so that a shared reader (in
`generator.spec`) can take its place. Item schemas are returned as found (their `$ref`s still to
be resolved against the document); a media type without `itemSchema` is not a stream here.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.spec.loader import LoadedSpec
from generator.spec.openapi import iter_operations, resolved
from generator.spec.pointers import escape_pointer

SSE = "text/event-stream"
JSON_LINES = ("application/jsonl", "application/x-ndjson")
JSON_SEQ = "application/json-seq"
SEQUENTIAL_MEDIA_TYPES = (SSE, *JSON_LINES, JSON_SEQ)
ENDS_STREAM = "x-contract-ends-stream"
TERMINAL_EVENT = "x-contract-terminal-event"


@dataclass(frozen=True, slots=True)
class EndsStreamLink:
    """A link that, followed while the stream is open, ends it (with `terminal_event` last)."""

    name: str
    operation_id: str
    # Parameter name -> runtime expression (`$request.path.x`, `$response.body#/run_id`) or value.
    parameters: Mapping[str, Any]
    terminal_event: str | None


@dataclass(frozen=True, slots=True)
class StreamResponse:
    """One streaming answer a contract declares: (operation, status, media type)."""

    path: str
    method: str  # lower case, as in the document
    operation_id: str | None
    status: str  # the response key: `200`
    media_type: str  # one of SEQUENTIAL_MEDIA_TYPES
    item_schema: Any
    item_pointer: str  # JSON pointer of the item schema in the document
    links: tuple[EndsStreamLink, ...] = field(default=())

    @property
    def label(self) -> str:
        """The operation's label as Schemathesis writes it: `POST /path`."""
        return f"{self.method.upper()} {self.path}"

    @property
    def is_sse(self) -> bool:
        return self.media_type == SSE


def stream_responses(document: Mapping[str, Any]) -> list[StreamResponse]:
    """Every (operation, status, sequential media type with an `itemSchema`), in document order."""
    found: list[StreamResponse] = []
    for ref in iter_operations(document):
        responses = ref.operation.get("responses")
        for status, raw in responses.items() if isinstance(responses, dict) else ():
            response = resolved(document, raw, {})
            content = response.get("content") if isinstance(response, dict) else None
            if not isinstance(content, dict):
                continue
            links = _ends_stream_links(document, response.get("links"))
            for media_type, media in content.items():
                kind = _sequential(str(media_type))
                media = resolved(document, media, {})
                if kind is None or not isinstance(media, dict) or "itemSchema" not in media:
                    continue
                pointer = (
                    f"{ref.pointer}/responses/{escape_pointer(str(status))}/content/"
                    f"{escape_pointer(str(media_type))}/itemSchema"
                )
                found.append(
                    StreamResponse(
                        path=ref.path,
                        method=ref.method,
                        operation_id=_text(ref.operation.get("operationId")),
                        status=str(status),
                        media_type=kind,
                        item_schema=media["itemSchema"],
                        item_pointer=pointer,
                        links=links,
                    )
                )
    return found


def find_operation(
    document: Mapping[str, Any], operation_id: str
) -> tuple[str, str, Mapping[str, Any]] | None:
    """(path, method, operation) of the operation with that operationId."""
    for ref in iter_operations(document):
        if ref.operation.get("operationId") == operation_id:
            return ref.path, ref.method, ref.operation
    return None


def _sequential(media_type: str) -> str | None:
    base = media_type.split(";")[0].strip().lower()
    return base if base in SEQUENTIAL_MEDIA_TYPES else None


def _ends_stream_links(document: Mapping[str, Any], raw: Any) -> tuple[EndsStreamLink, ...]:
    links: list[EndsStreamLink] = []
    for name, value in raw.items() if isinstance(raw, dict) else ():
        link = resolved(document, value, {})
        if not isinstance(link, dict) or link.get(ENDS_STREAM) is not True:
            continue
        operation_id = _text(link.get("operationId"))
        if operation_id is None:
            continue  # an operationRef link: not supported by this reader
        parameters = link.get("parameters")
        links.append(
            EndsStreamLink(
                name=str(name),
                operation_id=operation_id,
                parameters=dict(parameters) if isinstance(parameters, dict) else {},
                terminal_event=_text(link.get(TERMINAL_EVENT)),
            )
        )
    return tuple(links)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def without_item_schemas(spec: LoadedSpec) -> LoadedSpec:
    """A copy of `spec` with `itemSchema` dropped from 3.1 media types, for `validate` only.

    openapi-spec-validator 0.9's 3.1 schema refuses `itemSchema`, which FastAPI writes into 3.1
    documents. Until `generator.spec.validate` accepts it (stream-server's part of issue 12),
    conformance validates the rest of the document; the item schemas are compiled by
    `stream_items` when a stream is judged. Remove this once validate accepts them.
    """
    if not spec.version.startswith("3.1"):
        return spec
    document = copy.deepcopy(spec.document)
    for stream in stream_responses(document):
        node: Any = document
        for token in stream.item_pointer.split("/")[1:-1]:
            key = token.replace("~1", "/").replace("~0", "~")
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):  # (a media type behind a `$ref` keeps its itemSchema)
            node.pop("itemSchema", None)
    return dataclasses.replace(spec, document=document)
