"""JSON pointers (RFC 6901) into a parsed document."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

MISSING: Any = object()  # what a pointer to nothing resolves to


def escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def unescape_pointer(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def resolve_pointer(document: Any, pointer: str) -> Any:
    """Resolve "/components/schemas/X" (or a `#` fragment without the `#`); MISSING if nothing."""
    node = document
    if pointer in ("", "/"):
        return node
    for raw_token in pointer.lstrip("/").split("/"):
        token = unescape_pointer(raw_token)
        token = unquote(token) if "%" in token else token
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return MISSING
    return node


def is_missing(value: Any) -> bool:
    return value is MISSING
