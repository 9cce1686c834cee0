"""Patterns the generated server cannot compile are dropped, each with a located warning; so are
scalar defaults of the wrong type (`"false"` for a boolean) and defaults that are none of their
enum's values (a member *name*, as `x-enumNames` gives it), which the models cannot carry.

pydantic compiles a field's `pattern` with pydantic-core's Rust regex engine when the model is
imported. datamodel-code-generator switches a model to `regex_engine='python-re'` for the syntax
Rust lacks (lookarounds, backreferences), so those are kept. What neither engine compiles (a
pattern too large for the Rust engine's size limit, or one that is no Python regex either, such
as `\\p{Print}`) would make `create_app()` fail at import: the constraint is dropped instead, as
a server that accepts a little more is better than none. Python's `re` is not a fallback for the
size limit: it has no such limit to protect the server from catastrophic patterns.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from pydantic_core import SchemaError, SchemaValidator

from generator.spec.errors import Diagnostic
from generator.spec.pointers import escape_pointer, resolve_pointer

# Objects whose keys are names chosen by the author, not keywords (a property called "pattern").
_NAME_MAPS = frozenset(
    {"properties", "patternProperties", "definitions", "$defs", "dependentSchemas", "schemas"}
    | {"responses", "parameters", "requestBodies", "headers", "securitySchemes", "links"}
    | {"callbacks", "pathItems", "paths", "webhooks", "content", "encoding", "variables"}
    | {"mapping", "examples"}
)
_DATA_KEYWORDS = frozenset({"default", "enum", "const", "example", "examples"})


def without_unusable_patterns(
    document: dict[str, Any], file: str
) -> tuple[dict[str, Any], tuple[Diagnostic, ...]]:
    """The document with every pattern the server cannot compile removed, and a warning each."""
    warnings: list[Diagnostic] = []
    cleaned = _Cleaner(document, file, warnings).clean(document, "", False)
    if not warnings:
        return document, ()
    return cleaned, tuple(warnings)


class _Cleaner:
    def __init__(self, document: dict[str, Any], file: str, warnings: list[Diagnostic]) -> None:
        self.document = document
        self.file = file
        self.warnings = warnings

    def warn(self, pointer: str, message: str, hint: str) -> None:
        self.warnings.append(Diagnostic(self.file, pointer, message, hint, level="warning"))

    def clean(self, node: Any, where: str, names: bool) -> Any:
        if isinstance(node, list):
            return [self.clean(item, f"{where}/{i}", False) for i, item in enumerate(node)]
        if not isinstance(node, dict):
            return node
        result: dict[str, Any] = {}
        for key, value in node.items():
            pointer = f"{where}/{escape_pointer(str(key))}"
            if not names and key == "pattern" and isinstance(value, str):
                reason = unusable_pattern(value)
                if reason:
                    self.warn(
                        pointer,
                        f"pattern dropped: {reason}",
                        "the generated server does not check it",
                    )
                    continue
            if not names and key == "default":
                if _default_mismatch(node.get("type"), value):
                    self.warn(
                        pointer,
                        f"default dropped: {json.dumps(value)[:40]} is no {node['type']}",
                        "the generated model has no default for it",
                    )
                    continue
                if not _among(value, self.enum_of(node)):
                    self.warn(
                        pointer,
                        f"default dropped: {json.dumps(value)[:40]} is none of the enum's values",
                        "the generated model has no default for it",
                    )
                    continue
            if not names and (key in _DATA_KEYWORDS or str(key).startswith("x-")):
                result[key] = value
            else:
                result[key] = self.clean(value, pointer, not names and key in _NAME_MAPS)
        return result

    def enum_of(self, node: dict[str, Any]) -> list[Any] | None:
        """The enum values a schema (or the local schema its `$ref` names) allows; None: any."""
        for _ in range(20):  # a chain of $refs, bounded
            if isinstance(node.get("enum"), list):
                return list(node["enum"])
            ref = node.get("$ref")
            if not isinstance(ref, str) or not ref.startswith("#/"):
                return None
            target = resolve_pointer(self.document, ref[1:])
            if not isinstance(target, dict):
                return None
            node = target
        return None


def _among(value: Any, allowed: list[Any] | None) -> bool:
    if allowed is None or value is None:
        return True
    return any(
        value == item and isinstance(value, bool) == isinstance(item, bool) for item in allowed
    )


_SCALAR_TYPES: dict[str, tuple[type, ...]] = {
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "string": (str,),
}


def _default_mismatch(declared: Any, value: Any) -> bool:
    """A scalar schema whose default is of another type (`"false"` for a boolean): the model
    would carry it unvalidated, and its annotation would be wrong."""
    if not isinstance(declared, str) or declared not in _SCALAR_TYPES or value is None:
        return False
    if isinstance(value, bool) and declared != "boolean":
        return True
    return not isinstance(value, _SCALAR_TYPES[declared])


@functools.cache
def unusable_pattern(pattern: str) -> str:
    """Why the generated server could not compile `pattern`; "" when it can."""
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return "not a Python regular expression"
    try:
        SchemaValidator({"type": "str", "pattern": pattern})
    except SchemaError as exc:
        text = str(exc)
        if "look-around" in text or "backreferences" in text:
            return ""  # the models use python-re for it
        detail = text.strip().splitlines()[-1].strip() if text.strip() else "rejected"
        return f"pydantic-core's regex engine cannot compile it ({detail[:80]})"
    return ""
