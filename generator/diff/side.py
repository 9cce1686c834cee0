"""One side of a comparison: a node of the old or the new document, and its JSON pointer.

Every comparison takes `old: Side, new: Side`. A side carries its document, so each `$ref` is
followed in the document it belongs to (with `generator.spec.openapi.follow_refs`; keys beside a
`$ref` win, as in OpenAPI 3.1 reference objects).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator.spec.openapi import follow_refs
from generator.spec.pointers import escape_pointer


def as_mapping(value: Any) -> dict[str, Any]:
    """`value` if it is an object, else an empty one: what a malformed node contributes."""
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class Side:
    document: Mapping[str, Any]  # the whole document, for resolving `$ref`s
    node: Any
    pointer: str  # where `node` is in `document`

    @property
    def mapping(self) -> dict[str, Any]:
        return as_mapping(self.node)

    def child(self, key: str) -> Side:
        """The value under `key` as written, `$ref`s not followed; None when there is none."""
        node = self.node.get(key) if isinstance(self.node, dict) else None
        return Side(self.document, node, f"{self.pointer}/{escape_pointer(key)}")

    def resolved(self) -> Side:
        """The end of the node's `$ref` chain, at the pointer it is found."""
        end = follow_refs(self.document, self.node, self.pointer, siblings_win=True)
        return Side(self.document, end.value, end.pointer)

    def resolved_child(self, key: str) -> Side:
        return self.child(key).resolved()
