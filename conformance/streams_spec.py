"""What a contract says about its streams: per (operation, status), the sequential media types,
their item schemas, and the links marked `x-contract-ends-stream`.

`stream_responses(document)` turns what `generator.spec.streams` reads from a loaded (validated)
OpenAPI 3.1 or 3.2 document into what the stream checks judge. Item schemas are returned as found
(their `$ref`s still to be resolved against the document); a media type without `itemSchema` is
not a stream here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.spec.openapi import iter_operations
from generator.spec.streams import SSE, iter_streams


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
    media_type: str  # a sequential media type, parameters dropped
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
    """Every (operation, status, sequential media type with an `itemSchema`), in document order.

    Read by `generator.spec.streams` (the generator reads the same streams); this keeps what the
    checks need: a media type without `itemSchema` has nothing to check items against, and a link
    by `operationRef` is not followed.
    """
    found: list[StreamResponse] = []
    for stream in iter_streams(document):
        if stream.item_schema is None:
            continue
        links = tuple(
            EndsStreamLink(
                name=link.name,
                operation_id=link.operation_id,
                parameters=link.parameters,
                terminal_event=link.terminal_event,
            )
            for link in stream.ends_stream
            if link.operation_id is not None
        )
        found.append(
            StreamResponse(
                path=stream.path,
                method=stream.method,
                operation_id=stream.operation_id,
                status=stream.status,
                media_type=stream.media_type.split(";")[0].strip().lower(),
                item_schema=stream.item_schema,
                item_pointer=f"{stream.pointer}/itemSchema",
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
