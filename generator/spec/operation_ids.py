"""Duplicate operationIds: found in document order, and renamed only when asked to.

OpenAPI requires operationIds to be unique; `validate` reports a duplicate as an error and stays
strict. Some published documents break the rule anyway (Agno's AgentOS uses `get_config`
twice), so generation can rename the later occurrences (`get_config` → `get_config_2`, skipping
names already taken) before anything derives a name from an operationId. The renamed document is
also the one the generated package serves, so the served ids and the routes agree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from generator.spec.errors import Diagnostic
from generator.spec.loader import LoadedSpec
from generator.spec.openapi import HTTP_METHODS
from generator.spec.pointers import escape_pointer

# The CLI flag and the [tool.contract] key that ask for the renaming: named in the hint of the
# error a duplicate is, so the way out is in the message.
FLAG = "--rename-duplicate-operation-ids"
KEY = "rename_duplicate_operation_ids"
HINT = f"{FLAG} or `{KEY} = true` in [tool.contract] renames the later ones"


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A later use of an operationId: where it was first used, where again, and its new name."""

    operation_id: str
    kept: str  # JSON pointer of the first operation with the id, which keeps it
    pointer: str  # JSON pointer of this operation
    new_id: str


def find_duplicates(document: dict[str, Any]) -> tuple[Duplicate, ...]:
    """Every later use of an operationId, in document order, with the name it would get."""
    operations = list(_operations(document))
    taken = {operation_id for _, _, _, operation_id in operations}
    first: dict[str, str] = {}
    duplicates: list[Duplicate] = []
    for _, _, pointer, operation_id in operations:
        if operation_id not in first:
            first[operation_id] = pointer
            continue
        number = 2
        while f"{operation_id}_{number}" in taken:
            number += 1
        new_id = f"{operation_id}_{number}"
        taken.add(new_id)
        duplicates.append(Duplicate(operation_id, first[operation_id], pointer, new_id))
    return tuple(duplicates)


def rename_duplicates(spec: LoadedSpec) -> tuple[LoadedSpec, tuple[Diagnostic, ...]]:
    """The spec with later duplicate operationIds renamed, and one warning per rename.

    The loaded document is not changed: the paths, path items and operations on the way to a
    renamed id are copied.
    """
    duplicates = find_duplicates(spec.document)
    if not duplicates:
        return spec, ()
    renamed = {d.pointer: d.new_id for d in duplicates}
    paths = dict(spec.document["paths"])
    for path, method, pointer, _ in list(_operations(spec.document)):
        if pointer in renamed:
            item = paths[path] = dict(paths[path])
            item[method] = {**item[method], "operationId": renamed[pointer]}
    document = {**spec.document, "paths": paths}
    file = str(spec.path)
    warnings = tuple(
        Diagnostic(
            file,
            d.pointer,
            f"operationId {d.operation_id!r} is used twice; renamed to {d.new_id!r}",
            f"kept at {file}#{d.kept}",
            level="warning",
        )
        for d in duplicates
    )
    return dataclasses.replace(spec, document=document), warnings


def with_hint(
    diagnostics: tuple[Diagnostic, ...], document: dict[str, Any]
) -> tuple[Diagnostic, ...]:
    """The errors of a document, those at a duplicate operationId naming the way to rename it."""
    pointers = {d.pointer for d in find_duplicates(document)}
    return tuple(
        dataclasses.replace(d, hint=f"{d.hint}; {HINT}" if d.hint else HINT)
        if d.level == "error" and d.pointer in pointers
        else d
        for d in diagnostics
    )


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """(path, method, pointer, operationId) of every operation with a string id.

    In document order, methods included, and only in path items written inline: the order and
    the places `validate` reports a duplicate at, so its error and the renaming agree.
    """
    paths = document.get("paths")
    if not isinstance(paths, dict):
        return
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if method not in HTTP_METHODS or not isinstance(operation, dict):
                continue
            operation_id = operation.get("operationId")
            if isinstance(operation_id, str):
                yield path, method, f"/paths/{escape_pointer(path)}/{method}", operation_id
