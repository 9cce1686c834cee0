"""Schemas in one normal form, so that both sides compare alike however they are written.

`normalise` follows `$ref`s, merges the properties and required names of `allOf` members, folds a
`type` list, `nullable` and null members of `anyOf`/`oneOf` into a type set and a nullable flag,
and unwraps a union that holds one schema besides null. `canonical` is the normal form of a plain
value: its JSON text, which every comparison of keyword values uses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.diff.side import Side, as_mapping

MAX_DEPTH = 64  # allOf and single-member unions nested deeper are left as they are


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@dataclass(slots=True)
class Schema:
    """A schema with refs, allOf and nullable unions folded, so both sides compare alike."""

    document: Mapping[str, Any]  # the schema's own side, for normalising what is inside it
    node: dict[str, Any]
    pointer: str
    types: frozenset[str] | None  # None: any type
    nullable: bool
    enum: dict[str, Any] | None  # canonical text → value, without null
    branches: list[Side] | None  # the non-null anyOf/oneOf alternatives (2 or more)
    properties: dict[str, Side] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    items: Side | None = None
    additional: Side | None = None


def normalise(raw: Side, depth: int = 0) -> Schema:
    side = raw.resolved()
    node = side.mapping
    pointer = side.pointer
    whole = Side(side.document, node, pointer)
    schema = Schema(side.document, dict(node), pointer, None, False, None, None)
    properties: dict[str, Side] = {}
    required: list[str] = []
    _collect_object(whole, properties, required, depth)
    schema.properties = properties
    schema.required = frozenset(required)
    if isinstance(node.get("items"), (dict, bool)):
        schema.items = whole.child("items")
    if "additionalProperties" in node:
        schema.additional = whole.child("additionalProperties")

    for keyword in ("anyOf", "oneOf"):
        members = node.get(keyword)
        if not isinstance(members, list):
            continue
        rest: list[Side] = []
        for index, member in enumerate(members):
            written = Side(side.document, member, f"{pointer}/{keyword}/{index}")
            if _is_null_schema(written.resolved().node):
                schema.nullable = True
            else:
                rest.append(written)
        other = "oneOf" if keyword == "anyOf" else "anyOf"
        if len(rest) == 1 and other not in node and depth < MAX_DEPTH:
            inner = normalise(rest[0], depth + 1)
            outer = {k: v for k, v in node.items() if k not in (keyword, "allOf")}
            inner.node = {**inner.node, **outer}
            inner.nullable = inner.nullable or schema.nullable or bool(outer.get("nullable"))
            if "type" in outer or "enum" in outer or "const" in outer:
                _fold_types(inner, inner.node)
            inner.properties = {**inner.properties, **schema.properties}
            inner.required = inner.required | schema.required
            return inner
        if rest:
            schema.branches = rest
        elif members:
            schema.types = frozenset()  # only null
    _fold_types(schema, schema.node)
    return schema


def merged_allof(schema: Schema) -> dict[str, Any]:
    """Keywords of the schema and its allOf members (the schema's own keys win)."""
    return _merged_allof(schema.document, schema.node, 0)


def _is_null_schema(node: Any) -> bool:
    if not isinstance(node, dict):
        return False
    kind = node.get("type")
    return kind == "null" or kind == ["null"] or node.get("enum") == [None]


def _collect_object(
    side: Side, properties: dict[str, Side], required: list[str], depth: int
) -> None:
    """Properties and required names of a schema object, merged over its allOf members."""
    node = side.mapping
    declared = side.child("properties")
    for name in as_mapping(declared.node):
        properties[name] = declared.child(name)
    if isinstance(node.get("required"), list):
        required.extend(str(name) for name in node["required"])
    members = node.get("allOf")
    if not isinstance(members, list) or depth >= MAX_DEPTH:
        return
    for index, member in enumerate(members):
        resolved = Side(side.document, member, f"{side.pointer}/allOf/{index}").resolved()
        if isinstance(resolved.node, dict):
            _collect_object(resolved, properties, required, depth + 1)


def _fold_types(schema: Schema, node: dict[str, Any]) -> None:
    kind = node.get("type")
    if isinstance(kind, str):
        types: set[str] | None = {kind}
    elif isinstance(kind, list):
        types = {str(k) for k in kind}
    else:
        types = None if schema.types is None else set(schema.types)
    if types is not None:
        if "null" in types:
            schema.nullable = True
            types.discard("null")
        schema.types = frozenset(types)
    if node.get("nullable") is True:
        schema.nullable = True
    values: list[Any] | None = None
    if isinstance(node.get("enum"), list):
        values = list(node["enum"])
    elif "const" in node:
        values = [node["const"]]
    if values is not None:
        if None in values:
            schema.nullable = True
        schema.enum = {canonical(v): v for v in values if v is not None}


def _merged_allof(document: Mapping[str, Any], node: dict[str, Any], depth: int) -> dict[str, Any]:
    merged = dict(node)
    members = node.get("allOf")
    if not isinstance(members, list) or depth >= MAX_DEPTH:
        return merged
    for member in members:
        resolved = Side(document, member, "").resolved().node
        if isinstance(resolved, dict):
            for key, value in _merged_allof(document, resolved, depth + 1).items():
                if key not in ("properties", "required", "allOf"):
                    merged.setdefault(key, value)
    return merged
