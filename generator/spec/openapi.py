"""The shape of an OpenAPI document that every command walks: methods, operations, local `$ref`s."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from generator.spec.pointers import escape_pointer, is_missing, resolve_pointer

# The fixed fields of a Path Item that are operations, in the order the specification lists them.
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

SCHEMAS = "#/components/schemas/"

# A chain longer than this is treated as broken: no real document nests references that deep.
MAX_REF_HOPS = 64


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where a `$ref` chain ends: the value, its pointer, whether it was followed to the end.

    When `complete` is false, `value` is the last node reached (it still holds a `$ref`): the
    target is missing, not in this document, or the chain is a cycle (`cycle`).
    """

    value: Any
    pointer: str
    complete: bool = True
    cycle: bool = False


def follow_refs(
    document: Mapping[str, Any], value: Any, pointer: str = "", *, siblings_win: bool = False
) -> Resolved:
    """Follow local `$ref`s (`#/...`) from `value`, found at `pointer`, to the object they name.

    With `siblings_win` (OpenAPI 3.1 reference objects), keys beside a `$ref` override the target's.
    """
    seen: set[str] = set()
    while isinstance(value, dict) and isinstance(value.get("$ref"), str):
        ref: str = value["$ref"]
        if not ref.startswith("#"):
            return Resolved(value, pointer, complete=False)
        if ref in seen or len(seen) >= MAX_REF_HOPS:
            return Resolved(value, pointer, complete=False, cycle=True)
        seen.add(ref)
        target = resolve_pointer(document, ref[1:])
        if is_missing(target):
            return Resolved(value, pointer, complete=False)
        siblings = {k: v for k, v in value.items() if k != "$ref"} if siblings_win else {}
        value = {**target, **siblings} if siblings and isinstance(target, dict) else target
        pointer = ref[1:]
    return Resolved(value, pointer)


def resolved(document: Mapping[str, Any], value: Any, default: Any = None) -> Any:
    """The object a `$ref` chain names, or `default` when it cannot be followed to the end."""
    end = follow_refs(document, value)
    return end.value if end.complete else default


def discriminator_values(discriminator: Mapping[str, Any], refs: Iterable[str]) -> dict[str, str]:
    """Each value of a `discriminator` → the `$ref` (one of `refs`, the union's members) it selects.

    First each `mapping` entry that points at a member (by reference, or by schema name), then
    the schema name of every member no entry points at: OpenAPI's implicit mapping.
    """
    members = list(refs)
    values: dict[str, str] = {}
    mapping = discriminator.get("mapping")
    for value, target in mapping.items() if isinstance(mapping, dict) else ():
        if isinstance(target, str):
            ref = target if "/" in target else f"{SCHEMAS}{target}"
            if ref in members:
                values.setdefault(str(value), ref)
    mapped = set(values.values())
    for ref in members:
        if ref not in mapped and ref.startswith(SCHEMAS):
            values.setdefault(ref.removeprefix(SCHEMAS), ref)
    return values


@dataclass(frozen=True, slots=True)
class OperationRef:
    """One operation of a document, with the path item it belongs to (references followed)."""

    path: str
    method: str
    operation: Mapping[str, Any]
    item: Mapping[str, Any]
    pointer: str


def iter_operations(document: Mapping[str, Any]) -> Iterator[OperationRef]:
    """Every operation, in document order of paths and in `HTTP_METHODS` order within a path."""
    paths = document.get("paths")
    for path, raw_item in paths.items() if isinstance(paths, dict) else ():
        end = follow_refs(document, raw_item, f"/paths/{escape_pointer(str(path))}")
        if not isinstance(end.value, dict):
            continue
        for method in HTTP_METHODS:
            operation = end.value.get(method)
            if isinstance(operation, dict):
                yield OperationRef(
                    str(path), method, operation, end.value, f"{end.pointer}/{method}"
                )
