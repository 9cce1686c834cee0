"""The OpenAPI 3.2 constructs the toolkit does not support yet, refused in one line naming each.

Everything else 3.2 adds is either read (`itemSchema` on sequential media types, see
`streams.py`) or documentation only (tag `summary`/`parent`/`kind`, `dataValue`,
`serializedValue`...), so a 3.2 document without these constructs is handled like a 3.1 one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generator.spec.errors import UnreadableSpec
from generator.spec.pointers import escape_pointer


def check_supported(path: Path, document: dict[str, Any]) -> None:
    """Raise UnreadableSpec naming the first 3.2 construct that generation/conformance ignore."""
    problem = _first_unsupported(document)
    if problem is not None:
        pointer, what = problem
        raise UnreadableSpec(f"{path}: {pointer}: {what} (OpenAPI 3.2) is not supported yet")


def _first_unsupported(document: dict[str, Any]) -> tuple[str, str] | None:
    if "$self" in document:
        return "/$self", "`$self` (a document's own base URI)"
    components = document.get("components")
    if isinstance(components, dict) and "mediaTypes" in components:
        return "/components/mediaTypes", "`components/mediaTypes`"
    paths = document.get("paths")
    for name, item in paths.items() if isinstance(paths, dict) else ():
        where = f"/paths/{escape_pointer(str(name))}"
        if not isinstance(item, dict):
            continue
        if "query" in item:
            return f"{where}/query", "the QUERY method"
        if "additionalOperations" in item:
            return f"{where}/additionalOperations", "`additionalOperations`"
        for method, operation in item.items():
            found = _in_operation(operation, f"{where}/{escape_pointer(str(method))}")
            if found is not None:
                return found
    return None


def _in_operation(operation: Any, where: str) -> tuple[str, str] | None:
    if not isinstance(operation, dict):
        return None
    for index, parameter in enumerate(operation.get("parameters") or []):
        if isinstance(parameter, dict) and parameter.get("in") == "querystring":
            return f"{where}/parameters/{index}", "`in: querystring` parameters"
    bodies: list[tuple[str, Any]] = [("requestBody", operation.get("requestBody"))]
    responses = operation.get("responses")
    for status, response in responses.items() if isinstance(responses, dict) else ():
        bodies.append((f"responses/{escape_pointer(str(status))}", response))
    for place, holder in bodies:
        content = holder.get("content") if isinstance(holder, dict) else None
        for media_type, media in content.items() if isinstance(content, dict) else ():
            if isinstance(media, dict):
                for key in ("itemEncoding", "prefixEncoding"):
                    if key in media:
                        pointer = f"{where}/{place}/content/{escape_pointer(str(media_type))}"
                        return f"{pointer}/{key}", f"`{key}`"
    return None
