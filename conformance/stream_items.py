"""Judging one stream item against its item schema: pure functions, no I/O.

- `allowed_event_names(schema)`: the SSE event names an item schema allows (None: any), read
  from `properties.event` (`const` / `enum`) of the schema or of each `oneOf` / `anyOf` branch.
- `ItemJudge.problems(item)`: why an item breaks its schema: the event name, the item's shape
  (event/data/id/retry), and for SSE the `data` parsed as JSON and validated against
  `contentSchema` where the matching branch says `contentMediaType: application/json`;
  for JSON Lines the line's value against the item schema.

`$ref`s resolve against the whole document (`#/components/...`). A schema the validator cannot
use is reported once as an error of the run, not as a finding about the server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from generator.spec.openapi import resolved

from .stream_framing import JsonRecord, SseEvent, shown

# How many validation errors of one item are spelt out.
SHOWN_ERRORS = 2


@dataclass(frozen=True, slots=True)
class ItemProblem:
    kind: str  # "event-name" or "schema"
    message: str
    key: str  # de-duplicates the finding: same kind of fault, one finding


def allowed_event_names(document: Mapping[str, Any], schema: Any) -> frozenset[str] | None:
    """Every event name some branch allows; None when a branch allows any name."""
    names: set[str] = set()
    for branch in _branches(document, schema):
        allowed = _branch_event_names(document, branch)
        if allowed is None:
            return None
        names |= allowed
    return frozenset(names)


def _branches(document: Mapping[str, Any], schema: Any, depth: int = 0) -> list[dict[str, Any]]:
    schema = resolved(document, schema, {})
    if not isinstance(schema, dict):
        return [{}]
    for keyword in ("oneOf", "anyOf"):
        options = schema.get(keyword)
        if isinstance(options, list) and options and depth < 8:
            found: list[dict[str, Any]] = []
            for option in options:
                found += _branches(document, option, depth + 1)
            return found
    return [schema]


def _branch_event_names(document: Mapping[str, Any], branch: Mapping[str, Any]) -> set[str] | None:
    properties = resolved(document, branch.get("properties"), {})
    event = (
        resolved(document, properties.get("event"), None) if isinstance(properties, dict) else None
    )
    if not isinstance(event, dict):
        return None
    if "const" in event:
        return {str(event["const"])}
    if isinstance(event.get("enum"), list):
        return {str(v) for v in event["enum"]}
    return None


def _json_data_schemas(
    document: Mapping[str, Any], schema: Any, name: str | None
) -> list[Any] | None:
    """The `contentSchema`s of the branches that allow `name` and carry JSON data; None when
    some such branch does not say its data is JSON (then the data is only a string)."""
    schemas: list[Any] = []
    for branch in _branches(document, schema):
        allowed = _branch_event_names(document, branch)
        if allowed is not None and (name is None or name not in allowed):
            continue
        properties = resolved(document, branch.get("properties"), {})
        data = (
            resolved(document, properties.get("data"), {}) if isinstance(properties, dict) else {}
        )
        if not isinstance(data, dict):
            return None
        media_type = str(data.get("contentMediaType", "")).split(";")[0].strip().lower()
        if not (media_type == "application/json" or media_type.endswith("+json")):
            return None
        schemas.append(data.get("contentSchema", True))
    return schemas


class ItemJudge:
    """Validates the items of one streaming response against its item schema."""

    def __init__(self, document: Mapping[str, Any], item_schema: Any, *, sse: bool) -> None:
        self.document = document
        self.item_schema = item_schema
        self.sse = sse
        self.names = allowed_event_names(document, item_schema) if sse else None
        self._validators: dict[int, Draft202012Validator] = {}
        self.schema_error: str | None = None

    def problems(self, item: SseEvent | JsonRecord) -> list[ItemProblem]:
        if isinstance(item, SseEvent):
            return self._event_problems(item)
        if item.error is not None:
            return [ItemProblem("schema", f"a line {item.error}", "not-json")]
        return self._validate(self.item_schema, item.value, "line")

    def _event_problems(self, event: SseEvent) -> list[ItemProblem]:
        if self.names is not None and event.name not in self.names:
            allowed = ", ".join(sorted(self.names)) or "none"
            return [
                ItemProblem(
                    "event-name",
                    f"event {shown(event.name)!s} is not one the item schema allows "
                    f"(allowed: {shown(allowed, 200)})",
                    shown(event.name),
                )
            ]
        found = self._validate(self.item_schema, event.as_item(), f"event {shown(event.name)}")
        if found:
            return found
        schemas = _json_data_schemas(self.document, self.item_schema, event.event)
        if not schemas:
            return []
        try:
            value = json.loads(event.data)
        except ValueError:
            return [
                ItemProblem(
                    "schema",
                    f"event {shown(event.name)}: data is not JSON: {shown(event.data)}",
                    f"{shown(event.name)}:not-json",
                )
            ]
        errors: list[ItemProblem] = []
        for schema in schemas:
            errors = self._validate(schema, value, f"event {shown(event.name)} data")
            if not errors:
                return []
        return errors

    def _validate(self, schema: Any, instance: Any, what: str) -> list[ItemProblem]:
        validator = self._validator(schema)
        if validator is None:
            return []
        try:
            errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        except Exception as exc:  # a schema the validator fails on while validating
            self.schema_error = f"item schema not usable: {type(exc).__name__}"
            return []
        if not errors:
            return []
        parts = []
        for error in errors[:SHOWN_ERRORS]:
            where = "/" + "/".join(str(p) for p in error.absolute_path)
            parts.append(f"at {shown(where, 60)}: {shown(error.message, 120)}")
        more = f" (and {len(errors) - SHOWN_ERRORS} more)" if len(errors) > SHOWN_ERRORS else ""
        first = errors[0]
        key = f"{what}:{'/'.join(str(p) for p in first.absolute_path)}:{first.validator}"
        return [ItemProblem("schema", f"{what} {'; '.join(parts)}{more}", shown(key, 120))]

    def _validator(self, schema: Any) -> Draft202012Validator | None:
        cached = self._validators.get(id(schema))
        if cached is not None:
            return cached
        # The schema under a root that holds the document's components: `#/components/...` resolves.
        root = {"components": self.document.get("components", {}), "allOf": [schema]}
        try:
            Draft202012Validator.check_schema(root)
            validator = Draft202012Validator(root)
        except SchemaError as exc:
            self.schema_error = f"item schema not usable: {shown(exc.message, 120)}"
            return None
        self._validators[id(schema)] = validator
        return validator
