"""Whether a live request breaks the contract's parameter or body schemas.

Under `contract conform` the engine knows which requests it made invalid (`invalid_request_rejected`
reads that from the generation metadata). Live traffic carries no such record, so the proxy reads
the request against the operation's declared parameters and body itself, with Schemathesis'
schemas, the dialect of the spec and the same wire coercion (`0`/`off` for booleans). Credentials
are `auth_required`'s business; structured (array, object) parameters, whose serialisation styles
vary, are not judged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from ..schemathesis_api import Case, body_schema, coerce_wire_string, get_type, schema_accepts


def path_values(template: str, path: str) -> dict[str, str]:
    """The path parameters of `path` (percent-decoded) as the template `/a/{id}` names them."""
    names: list[str] = []

    def group(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"(?P<p{len(names) - 1}>[^/]*)"

    pattern = re.sub(r"\\\{([^}]*)\\\}", group, re.escape(template))
    found = re.fullmatch(pattern, path)
    if found is None:
        return {}
    return {name: unquote(found.group(f"p{i}")) for i, name in enumerate(names)}


def request_problem(
    case: Case[Any],
    *,
    path: str,
    query: str,
    headers: list[tuple[str, str]],
    body: bytes | None,
) -> tuple[str, str] | None:
    """(key, what is wrong) for the first component that violates the contract, or None."""
    operation = case.operation
    sent: dict[str, Mapping[str, str]] = {
        "path": path_values(operation.path, path),
        "query": dict(reversed(parse_qsl(query, keep_blank_values=True))),
        "header": {k.lower(): v for k, v in reversed(headers)},
        "cookie": _cookies(headers),
    }
    for parameter in operation.iter_parameters():
        definition = parameter.definition
        if isinstance(definition, dict) and "x-original-security-type" in definition:
            continue
        location = str(getattr(parameter.location, "value", parameter.location))
        name = parameter.name.lower() if location == "header" else parameter.name
        value = sent.get(location, {}).get(name)
        key = f"{location}:{parameter.name}"
        if value is None:
            if parameter.is_required:
                return key, f"in {location} - `{parameter.name}` is required"
            continue
        schema = parameter.optimized_schema
        types = get_type(schema) if isinstance(schema, dict) else []
        if not isinstance(schema, dict) or "array" in types or "object" in types:
            continue
        coerced = coerce_wire_string(value, types) if types else None
        if not _accepts(case, schema, value if coerced is None else coerced):
            return key, f"in {location} - `{parameter.name}` does not match its schema"
    return _body_problem(case, headers, body)


def _body_problem(
    case: Case[Any], headers: list[tuple[str, str]], body: bytes | None
) -> tuple[str, str] | None:
    definition = case.operation.definition.raw
    request_body = definition.get("requestBody") if isinstance(definition, dict) else None
    if not request_body:
        return None
    if not body:
        required = isinstance(request_body, dict) and request_body.get("required") is True
        return ("body:", "in body - a required body is missing") if required else None
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    media_type = content_type.split(";")[0].strip().lower()
    if not (media_type == "application/json" or media_type.endswith("+json")):
        return None  # forms, files, text: their encodings are not judged here
    schema = body_schema(case, media_type)
    if not isinstance(schema, dict):
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return "body:", "in body - not valid JSON"
    if not _accepts(case, schema, value):
        return "body:", "in body - does not match its schema"
    return None


def _accepts(case: Case[Any], schema: dict[str, Any], value: object) -> bool:
    try:
        return schema_accepts(case, schema, value)
    except Exception:  # a schema the validator cannot read: no finding from it
        return True


def _cookies(headers: list[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in headers:
        if name.lower() != "cookie":
            continue
        for part in value.split(";"):
            key, _, item = part.strip().partition("=")
            if key:
                found.setdefault(key, item)
    return found
