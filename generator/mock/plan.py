"""What the mock can answer for each operation: every declared response, with its ready bodies.

For each (operation, declared status key, media type) the body is settled once, at start: the
named examples and the `example` of the media type that are valid against its schema, and a value
generated from the schema with the seed. A response for which no valid body can be made is left
out (with a warning) rather than served wrong.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.spec.openapi import follow_refs, iter_operations
from generator.spec.pointers import escape_pointer, resolve_pointer

from .data import CannotGenerate, DataGenerator
from .validation import SchemaValidator

GENERATION_ATTEMPTS = 8
Body = bytes | None


def is_json(media_type: str) -> bool:
    base = media_type.split(";")[0].strip().lower()
    return base in ("application/json", "*/*") or base.endswith("+json")


@dataclass(slots=True)
class MediaBody:
    """The bodies one (status, media type) can be answered with."""

    media_type: str
    schema_pointer: str | None
    examples: dict[str, Body] = field(default_factory=dict)  # valid named examples, in order
    generated: Body = None


@dataclass(slots=True)
class DeclaredResponse:
    key: str  # as declared: `200`, `4XX`, `default`
    media: list[MediaBody] = field(default_factory=list)  # empty: a response with no body

    def status_for(self, wanted: int | None = None) -> int:
        """The status to send: the exact key, `wanted` within a range, else its lowest."""
        if self.key.isdigit():
            return int(self.key)
        if wanted is not None and self.covers(wanted):
            return wanted
        if self.key == "default":
            return 200 if wanted is None else wanted
        return int(self.key[0]) * 100

    def covers(self, status: int) -> bool:
        if self.key.isdigit():
            return int(self.key) == status
        if self.key == "default":
            return True
        return str(status)[0] == self.key[0]


@dataclass(slots=True)
class OperationPlan:
    method: str  # upper case
    path: str
    label: str
    responses: list[DeclaredResponse]

    def default_response(self) -> DeclaredResponse | None:
        """As Prism: the lowest declared 2xx, then the lowest other status, `default` last."""

        def rank(response: DeclaredResponse) -> tuple[int, int, str]:
            key = response.key.upper()
            if key == "DEFAULT":
                return (2, 0, key)
            success = 0 if key.startswith("2") else 1
            return (success, 0 if key.isdigit() else 1, key)

        return min(self.responses, key=rank) if self.responses else None

    def response_for(self, status: int) -> DeclaredResponse | None:
        exact = [r for r in self.responses if r.key == str(status)]
        ranged = [r for r in self.responses if r.key != "default" and r.covers(status)]
        fallback = [r for r in self.responses if r.key == "default"]
        for group in (exact, ranged, fallback):
            if group:
                return group[0]
        return None


class Planner:
    """Builds the `OperationPlan`s of a document, bodies validated, with one seed."""

    def __init__(self, document: Mapping[str, Any], seed: int, warn: Callable[[str], None]) -> None:
        self.document = document
        self.seed = seed
        self.warn = warn
        openapi_30 = str(document.get("openapi", "")).startswith("3.0")
        self.generator = DataGenerator(document, openapi_30=openapi_30)
        self.validator = SchemaValidator(document, openapi_30=openapi_30)

    def plans(self) -> dict[tuple[str, str], OperationPlan]:
        result: dict[tuple[str, str], OperationPlan] = {}
        for ref in iter_operations(self.document):
            method = ref.method.upper()
            label = f"{method} {ref.path}"
            responses: list[DeclaredResponse] = []
            raw = ref.operation.get("responses")
            for key, value in raw.items() if isinstance(raw, dict) else ():
                pointer = f"{ref.pointer}/responses/{escape_pointer(str(key))}"
                declared = self._response(label, str(key), value, pointer)
                if declared is not None:
                    responses.append(declared)
            result[(method, ref.path)] = OperationPlan(method, ref.path, label, responses)
        return result

    def _response(self, label: str, key: str, value: Any, pointer: str) -> DeclaredResponse | None:
        end = follow_refs(self.document, value, pointer)
        if not isinstance(end.value, dict):
            return None
        declared = DeclaredResponse(key)
        content = end.value.get("content")
        for media_type, media in content.items() if isinstance(content, dict) else ():
            if not isinstance(media, dict):
                continue
            media_pointer = f"{end.pointer}/content/{escape_pointer(str(media_type))}"
            body = self._media(f"{label} {key} {media_type}", str(media_type), media, media_pointer)
            if body is None:
                self.warn(f"{label}: no valid body for {key} {media_type}; it is never answered")
                continue
            declared.media.append(body)
        if isinstance(content, dict) and content and not declared.media:
            return None
        return declared

    def generate(self, media: MediaBody, rng: random.Random) -> Body:
        """A fresh body for `media` from `rng` (the `--dynamic` mode); None when none is valid."""
        if media.schema_pointer is None or not is_json(media.media_type):
            return media.generated
        schema = self._schema_at(media.schema_pointer)
        for attempt in range(GENERATION_ATTEMPTS):
            try:
                value = self.generator.value(schema, rng, prefer_examples=attempt == 0)
            except CannotGenerate:
                continue
            if self.validator.is_valid(media.schema_pointer, value):
                return _encode(value)
        return media.generated

    def _media(
        self, what: str, media_type: str, media: Mapping[str, Any], pointer: str
    ) -> MediaBody | None:
        schema_pointer = f"{pointer}/schema" if "schema" in media else None
        body = MediaBody(media_type, schema_pointer)
        candidates: list[tuple[str, Any]] = []
        examples = media.get("examples")
        for name, example in examples.items() if isinstance(examples, dict) else ():
            resolved = follow_refs(self.document, example).value
            if isinstance(resolved, dict) and "value" in resolved:
                candidates.append((str(name), resolved["value"]))
        if "example" in media:
            candidates.append(("example", media["example"]))
        for name, value in candidates:
            encoded = self._valid_body(media_type, schema_pointer, value)
            if encoded is not None:
                body.examples.setdefault(name, encoded)
        rng = random.Random(f"{self.seed}:{what}")  # noqa: S311 - mock data, no secret
        body.generated = self._generated(media_type, schema_pointer, rng)
        if body.generated is None and body.examples:
            body.generated = next(iter(body.examples.values()))
        if body.generated is None:
            return None
        return body

    def _generated(self, media_type: str, schema_pointer: str | None, rng: random.Random) -> Body:
        if not is_json(media_type):
            return _text_body(media_type, rng)
        if schema_pointer is None:
            return b"{}"
        schema = self._schema_at(schema_pointer)
        for attempt in range(GENERATION_ATTEMPTS):
            try:
                value = self.generator.value(schema, rng, prefer_examples=attempt == 0)
            except CannotGenerate:
                continue
            if self.validator.is_valid(schema_pointer, value):
                return _encode(value)
        return None

    def _valid_body(self, media_type: str, schema_pointer: str | None, value: Any) -> Body:
        if not is_json(media_type):
            if isinstance(value, str):
                return value.encode("utf-8")
            return None
        if schema_pointer is not None and not self.validator.is_valid(schema_pointer, value):
            return None
        return _encode(value)

    def _schema_at(self, pointer: str) -> Any:
        return resolve_pointer(self.document, pointer)


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _text_body(media_type: str, rng: random.Random) -> bytes:
    base = media_type.split(";")[0].strip().lower()
    if base == "text/event-stream":
        return b'data: {"event": "mock"}\n\n'
    if base.startswith("text/") or "xml" in base:
        return f"mock {rng.randrange(1000)}".encode()
    return b"mock"
