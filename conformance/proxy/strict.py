"""`--strict`: a violating response is answered with the contract's declared 5xx instead.

As `prism proxy --errors`: the client sees that the upstream broke the contract rather than a
response it must not rely on. The status is the operation's lowest declared 5xx (a `5XX` range
sends 500, `default` too); the body fills the declared schema's required fields (the message
where a string goes); `X-Contract-Violation` names the failed checks. An operation that declares
no 5xx gets 502 with a JSON body, which is then undeclared, and says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from generator.spec.openapi import follow_refs, iter_operations

from .exchange import printable

VIOLATION_HEADER = "X-Contract-Violation"
MESSAGE_FIELDS = ("detail", "message", "error", "title", "description")
MAX_DEPTH = 8


def declared_error(
    document: Mapping[str, Any], label: str, checks: list[str], message: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of the declared 5xx of the operation labelled `METHOD /path`."""
    responses = _responses(document, label)
    key = _server_error_key(responses)
    text = printable(f"the upstream response broke the contract: {message}", limit=300)
    headers = [(VIOLATION_HEADER, ", ".join(dict.fromkeys(checks)))]
    if key is None:
        body = {"detail": text, "error_code": "CONTRACT_VIOLATION"}
        return 502, [*headers, ("Content-Type", "application/json")], _json(body)
    status = int(key) if key.isdigit() else 500
    response = follow_refs(document, responses[key]).value
    content = response.get("content") if isinstance(response, dict) else None
    if not isinstance(content, dict) or not content:
        return status, headers, b""
    media_type, media = next(iter(content.items()))
    schema = media.get("schema") if isinstance(media, dict) else None
    value = _fill(document, schema, text, status, 0)
    return status, [*headers, ("Content-Type", str(media_type))], _json(value)


def _responses(document: Mapping[str, Any], label: str) -> dict[str, Any]:
    method, _, path = label.partition(" ")
    for ref in iter_operations(document):
        if ref.method.upper() == method and ref.path == path:
            responses = ref.operation.get("responses")
            return {str(k): v for k, v in responses.items()} if isinstance(responses, dict) else {}
    return {}


def _server_error_key(responses: Mapping[str, Any]) -> str | None:
    exact = sorted(k for k in responses if k.isdigit() and k.startswith("5"))
    if exact:
        return exact[0]
    if "5XX" in {k.upper() for k in responses}:
        return next(k for k in responses if k.upper() == "5XX")
    return "default" if "default" in responses else None


def _fill(document: Mapping[str, Any], schema: Any, text: str, status: int, depth: int) -> Any:
    schema = follow_refs(document, schema).value
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return text
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("allOf", "oneOf", "anyOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            if key == "allOf":
                merged: dict[str, Any] = {}
                for part in schema[key]:
                    filled = _fill(document, part, text, status, depth + 1)
                    if isinstance(filled, dict):
                        merged.update(filled)
                return merged
            return _fill(document, schema[key][0], text, status, depth + 1)
    kind = schema.get("type")
    kind = next((t for t in kind if t != "null"), "null") if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        wanted = [*schema.get("required", []), *(f for f in MESSAGE_FIELDS if f in properties)]
        return {
            name: _fill(document, properties.get(name, {}), text, status, depth + 1)
            for name in dict.fromkeys(wanted)
        }
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return status
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return text


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")
