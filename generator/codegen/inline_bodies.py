"""Request bodies declared inline get models too: each is modelled as a schema of its own.

datamodel-code-generator models `components/schemas`; a request body whose object schema is
written inline in the operation (a third of the JSON bodies of the corpus, GitHub's
`POST /repos/{owner}/{repo}/issues` among them) would otherwise be a `dict[str, Any]`, checked
for nothing but being an object. The models are generated from a copy of the document in which
each such schema is also `components/schemas/{Operation}Body`; the served document is unchanged.
"""

from __future__ import annotations

import copy
from typing import Any

from generator.codegen.names import pascal_case, unique
from generator.codegen.parse import body_kind, preferred_media_type
from generator.spec.openapi import follow_refs, iter_operations
from generator.spec.pointers import escape_pointer, unescape_pointer

_SHARED = "/components/requestBodies/"


def hoist_inline_bodies(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The document to generate models from, and each hoisted body schema's pointer (as
    `parse` meets it) → its name under `components/schemas`.

    The names are `{Operation}Body` (`{Name}Body` for a body shared as
    `components/requestBodies/{Name}`, hoisted once), made unique against the document's own
    schema names and each other, in document order.
    """
    schemas = (document.get("components") or {}).get("schemas") or {}
    taken: set[str] = set(schemas) if isinstance(schemas, dict) else set()
    hoisted: dict[str, str] = {}
    added: dict[str, Any] = {}
    for found in iter_operations(document):
        if "requestBody" not in found.operation:
            continue
        body = follow_refs(document, found.operation["requestBody"], f"{found.pointer}/requestBody")
        inline = _inline_object(body.value, body.pointer) if body.complete else None
        if inline is None or inline[0] in hoisted:
            continue
        pointer, schema = inline
        shared = body.pointer.removeprefix(_SHARED)
        if shared != body.pointer:  # `components/requestBodies/NoteText`: `NoteTextBody`
            stem = pascal_case(unescape_pointer(shared), fallback="Shared")
        else:
            operation_id = found.operation.get("operationId") or f"{found.method}_{found.path}"
            stem = pascal_case(str(operation_id), fallback="Op")
        name = unique(f"{stem}Body", taken)
        hoisted[pointer] = name
        added[name] = copy.deepcopy(schema)
    if not added:
        return document, {}
    components = dict(document.get("components") or {})
    components["schemas"] = {**(schemas if isinstance(schemas, dict) else {}), **added}
    return {**document, "components": components}, hoisted


def _inline_object(body: Any, pointer: str) -> tuple[str, dict[str, Any]] | None:
    """The pointer and schema of the body parse reads (its preferred media type), when that is
    JSON or a URL-encoded form and its schema an inline object with properties: a `$ref`
    already names a model, and an object without properties is a plain dict."""
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict) or not content:
        return None
    media_type = preferred_media_type(content)
    if body_kind(media_type) not in ("json", "form"):
        return None
    media = content[media_type]
    schema = media.get("schema") if isinstance(media, dict) else None
    if (
        isinstance(schema, dict)
        and "$ref" not in schema
        and isinstance(schema.get("properties"), dict)
        and schema["properties"]
        and schema.get("type", "object") == "object"
    ):
        return f"{pointer}/content/{escape_pointer(media_type)}/schema", schema
    return None
