"""The changes a comparison finds: each a rule of `generator.diff.rules`, a place and a message.

`Report.leftovers` is the catch-all every comparison ends with: a key that no rule looked at is
still reported, as documentation, an extension, or a change to review by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from generator.diff.normalise import canonical
from generator.diff.rules import LEVELS, RULES, Change
from generator.diff.side import Side
from generator.spec.openapi import HTTP_METHODS
from generator.spec.pointers import escape_pointer

# The methods the diff walks: OpenAPI 3.2 adds `query` to a path item's fixed fields.
METHODS: tuple[str, ...] = (*HTTP_METHODS, *(m for m in ("query",) if m not in HTTP_METHODS))
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
            change = what_changed(key, old_node.get(key), new_node.get(key))
            if key.startswith("x-"):
                self.emit("extension-changed", operation, location, where, change)
            elif key == "servers":
                self.emit("servers-changed", operation, location, where, "the servers list changed")
            elif key in doc_keys:
                self.emit("documentation-changed", operation, location, where, change)
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


MAX_DETAILS = 4
MAX_VALUE_CHARS = 40


def what_changed(key: str, old: Any, new: Any) -> str:
    """`key changed: title 'a' → 'b', contact added`: what a reader needs to judge a change."""
    if old is None:
        return f"{key} added"
    if new is None:
        return f"{key} removed"
    details = list(_differences("", old, new))
    if not details:
        return f"{key} changed"
    shown = ", ".join(details[:MAX_DETAILS])
    more = f" and {len(details) - MAX_DETAILS} more" if len(details) > MAX_DETAILS else ""
    return f"{key} changed: {shown}{more}"


def _differences(prefix: str, old: Any, new: Any) -> Iterable[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        for name in sorted(set(old) | set(new), key=str):
            label = f"{prefix}{name}"
            if name not in old:
                yield f"{label} added"
            elif name not in new:
                yield f"{label} removed"
            elif canonical(old[name]) != canonical(new[name]):
                yield from _differences(f"{label}.", old[name], new[name])
        return
    label = prefix.removesuffix(".")
    if isinstance(old, list) and isinstance(new, list) and len(old) != len(new):
        yield f"{label or 'the list'}: {len(old)} → {len(new)} entries".lstrip()
    elif isinstance(old, (dict, list)) or isinstance(new, (dict, list)):
        yield f"{label} rewritten" if label else "rewritten"
    else:
        yield f"{label} {_value(old)} → {_value(new)}".lstrip()


def _value(value: Any) -> str:
    text = canonical(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def sort_key(change: Change) -> tuple[Any, ...]:
    """By level (breaking first), then document-wide, path, method, location, pointer, rule."""
    method, _, path = change.operation.partition(" ")
    rank = METHODS.index(method.lower()) if method.lower() in METHODS else 99
    return (
        LEVELS.index(change.level),
        path,
        rank,
        change.location,
        change.pointer,
        change.id,
        change.message,
    )
