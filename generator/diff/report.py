"""The changes a comparison finds: each a rule of `generator.diff.rules`, a place and a message.

`Report.leftovers` is the catch-all every comparison ends with: a key that no rule looked at is
still reported, as documentation, an extension, or a change to review by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from generator.diff.normalise import canonical
from generator.diff.rules import BREAKING, RULES, Change
from generator.diff.side import Side
from generator.spec.openapi import HTTP_METHODS
from generator.spec.pointers import escape_pointer

DOC_KEYS = frozenset({"summary", "description", "title", "example", "examples", "externalDocs"})


class Report:
    def __init__(self) -> None:
        self._changes: list[Change] = []

    def emit(self, rule_id: str, operation: str, location: str, pointer: str, message: str) -> None:
        rule = RULES[rule_id]
        self._changes.append(Change(rule.id, rule.level, operation, location, pointer, message))

    def leftovers(
        self,
        old: Side,
        new: Side,
        operation: str,
        location: str,
        handled: Iterable[str],
        doc_keys: frozenset[str] = DOC_KEYS,
    ) -> None:
        """Report the keys of two objects that no rule looked at, at `new`'s pointer."""
        old_node, new_node = old.mapping, new.mapping
        skip = set(handled)
        for key in sorted(set(old_node) | set(new_node)):
            if key in skip or canonical(old_node.get(key)) == canonical(new_node.get(key)):
                continue
            where = f"{new.pointer}/{escape_pointer(key)}"
            if key.startswith("x-"):
                self.emit("extension-changed", operation, location, where, f"{key} changed")
            elif key == "servers":
                self.emit("servers-changed", operation, location, where, "the servers list changed")
            elif key in doc_keys:
                self.emit("documentation-changed", operation, location, where, f"{key} changed")
            else:
                verb = (
                    "added"
                    if key not in old_node
                    else "removed"
                    if key not in new_node
                    else "changed"
                )
                message = f"{key} {verb}; no rule classifies it, review it by hand"
                self.emit("unclassified-change", operation, location, where, message)

    def changes(self) -> list[Change]:
        """Every change once, in a stable order (`sort_key`)."""
        return sorted(dict.fromkeys(self._changes), key=sort_key)


def sort_key(change: Change) -> tuple[Any, ...]:
    """Breaking first, then document-wide, then by path, method, location, pointer and rule."""
    method, _, path = change.operation.partition(" ")
    rank = HTTP_METHODS.index(method.lower()) if method.lower() in HTTP_METHODS else 99
    return (
        0 if change.level == BREAKING else 1,
        path,
        rank,
        change.location,
        change.pointer,
        change.id,
        change.message,
    )
