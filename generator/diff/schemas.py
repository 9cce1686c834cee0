"""Compare two schemas: types, nullability, enums, constraints, defaults, properties, items, unions.

The same change can be harmless in a request and breaking in a response, so every finding is an
aspect (`type-widened`, `max-length-tightened`, ...) turned into a rule id by the subject of the
`Place` the schema is at (`rules.subject_rule`); an aspect the direction has no rule for is not
reported. Changes inside a shared component are reported at the component's pointer.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from generator.diff.normalise import MAX_DEPTH, Schema, canonical, merged_allof, normalise
from generator.diff.report import DOC_KEYS, Report, what_changed
from generator.diff.rules import (
    CHANGEABLE,
    KEYED_SUBSCHEMA_KEYWORDS,
    LOWER_BOUNDS,
    OPAQUE_KEYWORDS,
    OTHER_CONSTRAINTS,
    SUBSCHEMA_KEYWORDS,
    UPPER_BOUNDS,
    Direction,
    subject_rule,
)
from generator.diff.side import Side
from generator.spec.pointers import escape_pointer

SCHEMA_DOC_KEYS = DOC_KEYS | {"$comment"}
# The keywords this module judges; any other that changes is left to `Report.leftovers`.
_SCHEMA_HANDLED = frozenset(
    {
        "$ref",
        "type",
        "nullable",
        "enum",
        "const",
        "properties",
        "required",
        "items",
        "additionalProperties",
        "allOf",
        "anyOf",
        "oneOf",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        *UPPER_BOUNDS,
        *LOWER_BOUNDS,
        *OTHER_CONSTRAINTS,
        *SUBSCHEMA_KEYWORDS,
        *KEYED_SUBSCHEMA_KEYWORDS,
        *OPAQUE_KEYWORDS,
        "dependentRequired",
        "discriminator",
    }
)
# A pattern that every string matches restricts nothing: it is the same as no pattern.
_MATCH_ALL_PATTERNS = frozenset({"", ".*"})
_COUNT_BOUNDS = frozenset({"minLength", "minItems", "minProperties"})  # absent means 0

# A readOnly property is never part of a request, a writeOnly one never part of a response:
# per direction, the keyword and the (aspect, message) when a property becomes or stops being so.
_HIDING: dict[Direction, tuple[str, tuple[str, str], tuple[str, str]]] = {
    "request": (
        "readOnly",
        ("became-read-only", "clients may no longer send it"),
        ("became-not-read-only", "clients may now send it"),
    ),
    "response": (
        "writeOnly",
        ("became-write-only", "no longer returned"),
        ("became-not-write-only", "now returned"),
    ),
}


@dataclass(frozen=True, slots=True)
class Place:
    """Where a schema is: the operation, the direction, the root subject and the path inside."""

    operation: str
    direction: Direction
    root: str  # the subject of the root schema: request-parameter, response-body, ...
    label: str  # 'query parameter "limit"', 'request body (application/json)'
    path: tuple[str, ...] = ()

    @property
    def subject(self) -> str:
        return self.root if not self.path else f"{self.direction}-property"

    @property
    def location(self) -> str:
        if not self.path:
            return self.label
        text = ""
        for segment in self.path:
            text += segment if segment in ("[]", "{}") or not text else f".{segment}"
        return f'{self.label} property "{text}"'

    def child(self, segment: str) -> Place:
        return replace(self, path=(*self.path, segment))


class SchemaComparison:
    """The schema comparisons of one operation: a schema pair met twice there is compared once."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self._seen: set[tuple[str, str, str, str, str]] = set()
        self._queue: deque[tuple[Schema, Schema, Place]] = deque()

    def compare(self, old: Side, new: Side, place: Place) -> None:
        """Compare two schemas and, breadth first, everything inside them.

        Breadth first, a schema reached on several paths (or through a cycle) is reported at its
        shallowest location, and nesting depth never meets Python's recursion limit.
        """
        self._queue.append((normalise(old), normalise(new), place))
        while self._queue:
            self._compare(*self._queue.popleft())

    def _later(self, old: Schema, new: Schema, place: Place) -> None:
        self._queue.append((old, new, place))

    def _rule(self, place: Place, aspect: str, pointer: str, message: str) -> None:
        rule = subject_rule(place.subject, aspect)
        if rule is not None:
            self.report.emit(rule, place.operation, place.location, pointer, message)

    def _compare(self, old: Schema, new: Schema, place: Place) -> None:
        key = (old.pointer, new.pointer, place.direction, place.subject, place.label)
        if key in self._seen or len(place.path) > MAX_DEPTH:
            return
        self._seen.add(key)
        pointer = new.pointer
        request = place.direction == "request"

        if place.path:
            keyword, becomes, stops = _HIDING[place.direction]
            old_hidden, new_hidden = old.node.get(keyword) is True, new.node.get(keyword) is True
            if old_hidden != new_hidden:
                aspect, message = becomes if new_hidden else stops
                self._rule(place, aspect, pointer, message)
            if old_hidden and new_hidden:
                return  # never part of this direction: nothing else about it matters here

        old_dep, new_dep = old.node.get("deprecated") is True, new.node.get("deprecated") is True
        if old_dep != new_dep:
            if new_dep:
                self._rule(place, "deprecated", pointer, "became deprecated")
            else:
                self._rule(place, "reactivated", pointer, "no longer deprecated")

        self.discriminator(old, new, place)
        if old.branches is not None or new.branches is not None:
            self.union(old, new, place)
            self.json_schema_keywords(old, new, place)
            self.leftovers(old, new, place)
            return
        if old.types != new.types:
            message = f"type {_types_text(old.types)} → {_types_text(new.types)}"
            if request and _covers(new.types, old.types):
                self._rule(place, "type-widened", pointer, message)
            elif not request and _covers(old.types, new.types):
                self._rule(place, "type-narrowed", pointer, message)
            else:
                self._rule(place, "type-changed", pointer, message)
                self.leftovers(old, new, place)
                return

        if old.nullable != new.nullable:
            self.nullable(old.nullable, new.nullable, pointer, place)
        self.enum(old, new, place)
        self.constraints(old, new, place)
        self.default(old, new, place)
        self.properties(old, new, place)
        self.items(old, new, place)
        self.additional_properties(old, new, place)
        self.json_schema_keywords(old, new, place)
        self.leftovers(old, new, place)

    def leftovers(self, old: Schema, new: Schema, place: Place) -> None:
        handled = set(_SCHEMA_HANDLED)
        if not (place.direction == "request" and place.path):
            handled.discard("readOnly")
        if not (place.direction == "response" and place.path):
            handled.discard("writeOnly")
        if place.direction == "response":
            handled.discard("default")
        doc_keys = SCHEMA_DOC_KEYS | {"readOnly", "writeOnly", "default"}
        self.report.leftovers(
            Side(old.document, merged_allof(old), old.pointer),
            Side(new.document, merged_allof(new), new.pointer),
            place.operation,
            place.location,
            handled,
            doc_keys,
        )

    def nullable(self, old: bool, new: bool, pointer: str, place: Place) -> None:
        aspect = "became-nullable" if new else "became-not-nullable"
        message = "null is now allowed" if new else "null is no longer allowed"
        self._rule(place, aspect, pointer, message)

    def enum(self, old: Schema, new: Schema, place: Place) -> None:
        pointer = new.pointer
        if old.enum is None and new.enum is None:
            return
        if old.enum is None:
            assert new.enum is not None
            values = ", ".join(sorted(new.enum))
            self._rule(place, "became-enum", pointer, f"restricted to {values}")
        elif new.enum is None:
            self._rule(place, "enum-removed", pointer, "no longer restricted to an enum")
        else:
            removed = sorted(set(old.enum) - set(new.enum))
            added = sorted(set(new.enum) - set(old.enum))
            if removed:
                message = f"enum value{'s' * (len(removed) > 1)} removed: {', '.join(removed)}"
                self._rule(place, "enum-value-removed", pointer, message)
            if added:
                message = f"enum value{'s' * (len(added) > 1)} added: {', '.join(added)}"
                self._rule(place, "enum-value-added", pointer, message)

    def constraints(self, old: Schema, new: Schema, place: Place) -> None:
        old_node, new_node = merged_allof(old), merged_allof(new)
        pointer = new.pointer
        for bounds, upper in ((UPPER_BOUNDS, True), (LOWER_BOUNDS, False)):
            for keyword, name in bounds.items():
                old_value, new_value = old_node.get(keyword), new_node.get(keyword)
                if old_value is None and new_value is None:
                    continue
                verdict = _bound_verdict(keyword, old_value, new_value, upper)
                if verdict is not None:
                    message = f"{keyword} {_shown(old_value)} → {_shown(new_value)}"
                    self._rule(place, f"{name}-{verdict}", pointer, message)
        for keyword, name in OTHER_CONSTRAINTS.items():
            old_value, new_value = old_node.get(keyword), new_node.get(keyword)
            if old_value is None and new_value is None:
                continue
            verdict = _other_verdict(keyword, old_value, new_value)
            if verdict is not None and (verdict != "changed" or name in CHANGEABLE):
                message = f"{keyword} {_shown(old_value)} → {_shown(new_value)}"
                self._rule(place, f"{name}-{verdict}", pointer, message)

    def default(self, old: Schema, new: Schema, place: Place) -> None:
        if place.direction != "request":
            return  # the rules judge defaults in requests only
        old_has, new_has = "default" in old.node, "default" in new.node
        old_value, new_value = old.node.get("default"), new.node.get("default")
        pointer = f"{new.pointer}/default"
        if old_has and new_has and canonical(old_value) != canonical(new_value):
            message = f"default {_literal(old_value)} → {_literal(new_value)}"
            self._rule(place, "default-changed", pointer, message)
        elif old_has and not new_has:
            self._rule(place, "default-removed", pointer, f"default {_literal(old_value)} removed")
        elif new_has and not old_has:
            self._rule(place, "default-added", pointer, f"default {_literal(new_value)} added")

    def properties(self, old: Schema, new: Schema, place: Place) -> None:
        request = place.direction == "request"
        names = set(old.properties) | set(new.properties) | set(old.required) | set(new.required)
        for name in sorted(names):
            child = place.child(name)
            old_raw, new_raw = old.properties.get(name), new.properties.get(name)
            old_prop = normalise(old_raw) if old_raw is not None else None
            new_prop = normalise(new_raw) if new_raw is not None else None
            hidden_old = old_prop is not None and _hidden(old_prop, request)
            hidden_new = new_prop is not None and _hidden(new_prop, request)
            old_req, new_req = name in old.required, name in new.required
            old_where = _property_pointer(old, old_raw, name)
            new_where = _property_pointer(new, new_raw, name)
            if old_prop is None and new_prop is None:
                if old_req != new_req:  # required without a schema: "any value"
                    self._required_changed(child, new_where, new_req)
                continue
            if old_prop is None:
                if hidden_new:
                    continue
                if request:
                    if new_req:
                        rule, message = "request-property-added-required", "a new required property"
                    else:
                        rule, message = "request-property-added-optional", "a new optional property"
                else:
                    rule, message = "response-property-added", "a new property"
                self.report.emit(rule, place.operation, child.location, new_where, message)
                continue
            if new_prop is None:
                if hidden_old:
                    continue
                if request:
                    rule = "request-property-removed"
                    message = "the property was removed; what clients send for it is ignored"
                elif old_req:
                    rule, message = "response-required-property-removed", "no longer returned"
                else:
                    rule, message = "response-optional-property-removed", "no longer returned"
                self.report.emit(rule, place.operation, child.location, old_where, message)
                continue
            if old_req != new_req and not (hidden_old and hidden_new):
                self._required_changed(child, new_where, new_req)
            self._later(old_prop, new_prop, child)

    def _required_changed(self, place: Place, pointer: str, required: bool) -> None:
        became = "required" if required else "optional"
        rule = f"{place.direction}-property-became-{became}"
        message = f"the property became {became}"
        self.report.emit(rule, place.operation, place.location, pointer, message)

    def items(self, old: Schema, new: Schema, place: Place) -> None:
        if old.items is not None and new.items is not None:
            self._later(normalise(old.items), normalise(new.items), place.child("[]"))

    def additional_properties(self, old: Schema, new: Schema, place: Place) -> None:
        old_extra, new_extra = old.additional, new.additional
        old_open = old_extra is None or old_extra.node is not False
        new_open = new_extra is None or new_extra.node is not False
        pointer = f"{new.pointer}/additionalProperties"
        if old_open and not new_open:
            message = "additional properties are no longer allowed"
            self._rule(place, "additional-properties-tightened", pointer, message)
        elif new_open and not old_open:
            message = "additional properties are now allowed"
            self._rule(place, "additional-properties-relaxed", pointer, message)
        elif (
            old_extra is not None
            and new_extra is not None
            and isinstance(old_extra.node, dict)
            and isinstance(new_extra.node, dict)
        ):
            self._later(normalise(old_extra), normalise(new_extra), place.child("{}"))
        elif old_extra is None and new_extra is not None and isinstance(new_extra.node, dict):
            message = "additional properties became restricted to a schema"
            self._rule(place, "additional-properties-tightened", pointer, message)
        elif new_extra is None and old_extra is not None and isinstance(old_extra.node, dict):
            message = "additional properties are no longer restricted to a schema"
            self._rule(place, "additional-properties-relaxed", pointer, message)

    def discriminator(self, old: Schema, new: Schema, place: Place) -> None:
        """An annotation for code generators and dispatch: validation ignores it."""
        old_value, new_value = old.node.get("discriminator"), new.node.get("discriminator")
        if canonical(old_value) == canonical(new_value):
            return
        pointer = f"{new.pointer}/discriminator"
        if old_value is None:
            self._rule(place, "discriminator-added", pointer, "a discriminator was added")
        elif new_value is None:
            self._rule(place, "discriminator-removed", pointer, "the discriminator was removed")
        else:
            change = what_changed("discriminator", old_value, new_value)
            self._rule(place, "discriminator-changed", pointer, change)

    def json_schema_keywords(self, old: Schema, new: Schema, place: Place) -> None:
        """contains, if/then/else, dependent*, unevaluated*, prefixItems, propertyNames, ..."""
        old_node, new_node = merged_allof(old), merged_allof(new)
        old_side = Side(old.document, old_node, old.pointer)
        new_side = Side(new.document, new_node, new.pointer)
        for keyword, name in SUBSCHEMA_KEYWORDS.items():
            self._subschema(old_side.child(keyword), new_side.child(keyword), name, place, keyword)
        for keyword, name in KEYED_SUBSCHEMA_KEYWORDS.items():
            old_map, new_map = _keyed(old_node.get(keyword)), _keyed(new_node.get(keyword))
            for key in sorted(set(old_map) | set(new_map), key=_key_order):
                self._subschema(
                    _keyed_side(old_side, keyword, old_map, key),
                    _keyed_side(new_side, keyword, new_map, key),
                    name,
                    place,
                    f"{keyword}[{key}]",
                )
        for keyword, name in OPAQUE_KEYWORDS.items():
            old_value, new_value = old_node.get(keyword), new_node.get(keyword)
            if canonical(old_value) == canonical(new_value):
                continue
            pointer = f"{new.pointer}/{keyword}"
            verb = "added" if old_value is None else "removed" if new_value is None else "changed"
            self._rule(
                place, f"{name}-{verb}", pointer, what_changed(keyword, old_value, new_value)
            )
        self._dependent_required(old_node, new_node, new.pointer, place)

    def _subschema(self, old: Side, new: Side, name: str, place: Place, label: str) -> None:
        """One keyword's schema: added restricts, removed relaxes, both compared inside."""
        old_on, new_on = _restricts(old.node), _restricts(new.node)
        if not old_on and not new_on:
            return
        if not old_on:
            self._rule(place, f"{name}-added", new.pointer, f"{label} added")
        elif not new_on:
            self._rule(place, f"{name}-removed", old.pointer, f"{label} removed")
        elif old.node is False or new.node is False:
            if old.node is not new.node:
                verdict = "added" if new.node is False else "removed"
                self._rule(place, f"{name}-{verdict}", new.pointer, f"{label} became {new.node}")
        else:
            self._later(normalise(old), normalise(new), place.child(label))

    def _dependent_required(
        self, old_node: dict[str, Any], new_node: dict[str, Any], pointer: str, place: Place
    ) -> None:
        old_pairs = _dependency_pairs(old_node.get("dependentRequired"))
        new_pairs = _dependency_pairs(new_node.get("dependentRequired"))
        where = f"{pointer}/dependentRequired"
        added, removed = sorted(new_pairs - old_pairs), sorted(old_pairs - new_pairs)
        if added:
            shown = ", ".join(f"{a} → {b}" for a, b in added)
            self._rule(place, "dependent-required-added", where, f"now required together: {shown}")
        if removed:
            shown = ", ".join(f"{a} → {b}" for a, b in removed)
            message = f"no longer required together: {shown}"
            self._rule(place, "dependent-required-removed", where, message)

    def union(self, old: Schema, new: Schema, place: Place) -> None:
        """Pair the alternatives, by identity then by type; the rest were added or removed."""
        old_branches = [normalise(b) for b in old.branches or []] or [old]
        new_branches = [normalise(b) for b in new.branches or []] or [new]
        if old.branches is None and "oneOf" in new.node and place.direction == "request":
            overlapping = [b for b in new_branches if _accepts_shape(b, old)]
            if len(overlapping) > 1:
                message = (
                    f"wrapped into a oneOf: a value valid before matches {len(overlapping)} "
                    "alternatives, and oneOf rejects a value that matches more than one"
                )
                self._rule(place, "wrapped-in-one-of", new.pointer, message)
        old_nullable = old.nullable or any(b.nullable for b in old_branches)
        new_nullable = new.nullable or any(b.nullable for b in new_branches)
        old_left = [replace(b, nullable=old_nullable) for b in old_branches]
        new_left = [replace(b, nullable=new_nullable) for b in new_branches]
        pairs: list[tuple[Schema, Schema]] = []
        for matcher in (_branch_identity, _branch_kind):
            for old_branch in list(old_left):
                for new_branch in new_left:
                    if matcher(old_branch) == matcher(new_branch):
                        pairs.append((old_branch, new_branch))
                        old_left.remove(old_branch)
                        new_left.remove(new_branch)
                        break
        for old_branch, new_branch in pairs:
            self._later(old_branch, new_branch, place)
        for branch in old_left:
            message = f"alternative {_branch_text(branch)} removed"
            self._rule(place, "union-branch-removed", branch.pointer, message)
        for branch in new_left:
            message = f"alternative {_branch_text(branch)} added"
            self._rule(place, "union-branch-added", branch.pointer, message)
        if old_nullable != new_nullable:
            self.nullable(old_nullable, new_nullable, new.pointer, place)


def _accepts_shape(branch: Schema, old: Schema) -> bool:
    """Whether a value of `old`'s shape (its required properties) can satisfy `branch` too.

    A branch of `old`'s type, requiring no property `old` does not, and telling no value apart
    by an enum or const property: a value valid against `old` can match it.
    """
    if not _covers(branch.types, old.types) and not _covers(old.types, branch.types):
        return False
    if not branch.required <= old.required:
        return False
    for side in branch.properties.values():
        node = side.resolved().mapping
        if "enum" in node or "const" in node:
            return False
    return True


def _restricts(node: Any) -> bool:
    """A keyword's schema restricts values unless it is absent or `true` (or `{}`)."""
    return node is not None and node is not True and node != {}


def _keyed(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        return {str(index): member for index, member in enumerate(value)}
    return value if isinstance(value, dict) else {}


def _key_order(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (-1, key)


def _keyed_side(side: Side, keyword: str, members: dict[str, Any], key: str) -> Side:
    return Side(side.document, members.get(key), f"{side.pointer}/{keyword}/{escape_pointer(key)}")


def _dependency_pairs(value: Any) -> set[tuple[str, str]]:
    """dependentRequired as (property, property it requires) pairs."""
    pairs: set[tuple[str, str]] = set()
    for name, needed in (value if isinstance(value, dict) else {}).items():
        if isinstance(needed, list):
            pairs.update((str(name), str(other)) for other in needed)
    return pairs


def _property_pointer(schema: Schema, declared: Side | None, name: str) -> str:
    """Where a property is declared; for a name that is only required, where it would be."""
    if declared is not None:
        return declared.pointer
    return f"{schema.pointer}/properties/{escape_pointer(name)}"


def _hidden(schema: Schema, request: bool) -> bool:
    """readOnly never appears in a request, writeOnly never in a response."""
    return schema.node.get("readOnly" if request else "writeOnly") is True


def _branch_identity(schema: Schema) -> str:
    if schema.pointer.startswith("/components/"):
        return schema.pointer
    node = {k: v for k, v in schema.node.items() if k not in SCHEMA_DOC_KEYS}
    return canonical(node)


def _branch_kind(schema: Schema) -> str:
    return _types_text(schema.types)


def _branch_text(schema: Schema) -> str:
    if schema.pointer.startswith("/components/"):
        return schema.pointer.rsplit("/", 1)[-1]
    return _types_text(schema.types)


def _covers(wider: frozenset[str] | None, narrower: frozenset[str] | None) -> bool:
    """Every value of a `narrower` type is also a value of a `wider` type."""
    if wider is None:
        return True
    if narrower is None:
        return False
    return all(t in wider or (t == "integer" and "number" in wider) for t in narrower)


def _types_text(types: frozenset[str] | None) -> str:
    return "any" if types is None else " | ".join(sorted(types)) or "null"


def _literal(value: Any) -> str:
    text = canonical(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _shown(value: Any) -> str:
    """A keyword's value in a message; an absent keyword is "none"."""
    return "none" if value is None else _literal(value)


def _number(value: Any) -> Fraction | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return None


def _bound_verdict(keyword: str, old: Any, new: Any, upper: bool) -> str | None:
    """'tightened', 'relaxed' or None for a bound keyword's values (absent: None)."""
    if isinstance(old, bool) or isinstance(new, bool):  # OpenAPI 3.0 exclusiveMaximum: true
        old_on, new_on = old is True, new is True
        if old_on == new_on:
            return None
        return "tightened" if new_on else "relaxed"
    if keyword in _COUNT_BOUNDS:
        old = 0 if old is None else old
        new = 0 if new is None else new
    old_n, new_n = _number(old), _number(new)
    if old_n == new_n:
        return None
    if old_n is None:
        return "tightened"
    if new_n is None:
        return "relaxed"
    stricter = new_n < old_n if upper else new_n > old_n
    return "tightened" if stricter else "relaxed"


def _other_verdict(keyword: str, old: Any, new: Any) -> str | None:
    """'tightened', 'relaxed', 'changed' (neither) or None for an unordered constraint."""
    if keyword == "uniqueItems":
        old_on, new_on = old is True, new is True
        if old_on == new_on:
            return None
        return "tightened" if new_on else "relaxed"
    if keyword == "pattern":
        old = None if old in _MATCH_ALL_PATTERNS else old
        new = None if new in _MATCH_ALL_PATTERNS else new
    if canonical(old) == canonical(new):
        return None
    if old is None:
        return "tightened"
    if new is None:
        return "relaxed"
    if keyword == "multipleOf":
        old_n, new_n = _number(old), _number(new)
        if old_n and new_n:
            if (new_n / old_n).denominator == 1:
                return "tightened"
            if (old_n / new_n).denominator == 1:
                return "relaxed"
    return "changed"
