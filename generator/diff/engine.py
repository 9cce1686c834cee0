"""Compare two OpenAPI documents and classify every change with the rules of `diff_rules`.

Local `$ref`s are followed on both sides, so renaming a component or moving a schema inline is not
a change of the API; changes inside a shared component are reported once per operation using it,
at the component's pointer. Paths are matched with their parameter names blanked
(`/runs/{id}` is `/runs/{run_id}`), path parameters by position.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from generator.diff.rules import (
    BREAKING,
    CHANGEABLE,
    LOWER_BOUNDS,
    OTHER_CONSTRAINTS,
    RULES,
    UPPER_BOUNDS,
    Change,
    Direction,
    subject_rule,
)
from generator.spec.openapi import HTTP_METHODS, follow_refs
from generator.spec.pointers import escape_pointer

_PATH_PARAMETER = re.compile(r"\{([^{}/]*)\}")
_MAX_DEPTH = 64

DOC_KEYS = frozenset({"summary", "description", "title", "example", "examples", "externalDocs"})
_SCHEMA_DOC_KEYS = DOC_KEYS | {"$comment"}
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
    }
)
_COUNT_BOUNDS = frozenset({"minLength", "minItems", "minProperties"})  # absent means 0


def compare_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every change from `old` to `new`, classified, without duplicates, in a stable order."""
    differ = _Differ(_Doc(old), _Doc(new))
    differ.document()
    unique = dict.fromkeys(differ.changes)
    return sorted(unique, key=sort_key)


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


# -- documents and references ---------------------------------------------------------------


class _Doc:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, node: Any, pointer: str) -> tuple[Any, str]:
        """Follow a `$ref` chain to the object and its pointer; sibling keys (3.1) win."""
        end = follow_refs(self.root, node, pointer, siblings_win=True)
        return end.value, end.pointer

    def get(self, node: Any, key: str, pointer: str) -> tuple[Any, str]:
        """The resolved child `key` of a mapping, with its pointer; None when absent."""
        if not isinstance(node, dict) or key not in node:
            return None, f"{pointer}/{escape_pointer(key)}"
        return self.resolve(node[key], f"{pointer}/{escape_pointer(key)}")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _literal(value: Any) -> str:
    text = _canonical(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _shown(value: Any) -> str:
    """A keyword's value in a message; an absent keyword is "none"."""
    return "none" if value is None else _literal(value)


def _path_key(template: str) -> str:
    return _PATH_PARAMETER.sub("{}", template)


# -- schemas, normalised ----------------------------------------------------------------------


@dataclass(slots=True)
class _Schema:
    """A schema with refs, allOf and nullable unions folded, so both sides compare alike."""

    node: dict[str, Any]
    pointer: str
    types: frozenset[str] | None  # None: any type
    nullable: bool
    enum: dict[str, Any] | None  # canonical text → value, without null
    branches: list[tuple[Any, str]] | None  # the non-null anyOf/oneOf alternatives (2 or more)
    properties: dict[str, tuple[Any, str]] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    items: tuple[Any, str] | None = None
    additional: tuple[Any, str] | None = None


def _is_null_schema(node: Any) -> bool:
    if not isinstance(node, dict):
        return False
    kind = node.get("type")
    return kind == "null" or kind == ["null"] or node.get("enum") == [None]


def _normalise(doc: _Doc, raw: Any, pointer: str, depth: int = 0) -> _Schema:
    node, pointer = doc.resolve(raw, pointer)
    if node is True or not isinstance(node, dict):
        node = {}
    schema = _Schema(dict(node), pointer, None, False, None, None)
    properties: dict[str, tuple[Any, str]] = {}
    required: list[str] = []
    _collect_object(doc, node, pointer, properties, required, depth)
    schema.properties = properties
    schema.required = frozenset(required)
    if isinstance(node.get("items"), (dict, bool)):
        schema.items = (node["items"], f"{pointer}/items")
    if "additionalProperties" in node:
        schema.additional = (node["additionalProperties"], f"{pointer}/additionalProperties")

    for keyword in ("anyOf", "oneOf"):
        members = node.get(keyword)
        if not isinstance(members, list):
            continue
        rest: list[tuple[Any, str]] = []
        for index, member in enumerate(members):
            resolved, where = doc.resolve(member, f"{pointer}/{keyword}/{index}")
            if _is_null_schema(resolved):
                schema.nullable = True
            else:
                rest.append((member, f"{pointer}/{keyword}/{index}"))
        other = "oneOf" if keyword == "anyOf" else "anyOf"
        if len(rest) == 1 and other not in node and depth < _MAX_DEPTH:
            inner = _normalise(doc, rest[0][0], rest[0][1], depth + 1)
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


def _collect_object(
    doc: _Doc,
    node: dict[str, Any],
    pointer: str,
    properties: dict[str, tuple[Any, str]],
    required: list[str],
    depth: int,
) -> None:
    """Properties and required names of a schema, merged over its allOf members."""
    for name, value in _mapping(node.get("properties")).items():
        properties[name] = (value, f"{pointer}/properties/{escape_pointer(name)}")
    if isinstance(node.get("required"), list):
        required.extend(str(name) for name in node["required"])
    members = node.get("allOf")
    if not isinstance(members, list) or depth >= _MAX_DEPTH:
        return
    for index, member in enumerate(members):
        resolved, where = doc.resolve(member, f"{pointer}/allOf/{index}")
        if not isinstance(resolved, dict):
            continue
        _collect_object(doc, resolved, where, properties, required, depth + 1)


def _fold_types(schema: _Schema, node: dict[str, Any]) -> None:
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
        schema.enum = {_canonical(v): v for v in values if v is not None}


def _merged_allof(doc: _Doc, node: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """Keywords of the schema and its allOf members (the schema's own keys win)."""
    merged = dict(node)
    members = node.get("allOf")
    if not isinstance(members, list) or depth >= _MAX_DEPTH:
        return merged
    for member in members:
        resolved, _ = doc.resolve(member, "")
        if isinstance(resolved, dict):
            for key, value in _merged_allof(doc, resolved, depth + 1).items():
                if key not in ("properties", "required", "allOf"):
                    merged.setdefault(key, value)
    return merged


def _covers(wider: frozenset[str] | None, narrower: frozenset[str] | None) -> bool:
    """Every value of a `narrower` type is also a value of a `wider` type."""
    if wider is None:
        return True
    if narrower is None:
        return False
    return all(t in wider or (t == "integer" and "number" in wider) for t in narrower)


def _types_text(types: frozenset[str] | None) -> str:
    return "any" if types is None else " | ".join(sorted(types)) or "null"


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
    if keyword == "uniqueItems":
        old_on, new_on = old is True, new is True
        if old_on == new_on:
            return None
        return "tightened" if new_on else "relaxed"
    if _canonical(old) == _canonical(new):
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


# -- where a change is ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Where:
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

    def child(self, segment: str) -> _Where:
        return replace(self, path=(*self.path, segment))


_OpSide = tuple[str, dict[str, Any], dict[str, Any], str]  # template, path item, operation, pointer


# -- the differ ------------------------------------------------------------------------------


class _Differ:
    def __init__(self, old: _Doc, new: _Doc) -> None:
        self.old = old
        self.new = new
        self.changes: list[Change] = []
        self._seen: set[tuple[str, str, str, str, str]] = set()
        self._queue: deque[tuple[_Schema, _Schema, _Where]] = deque()
        self._draining = False

    def emit(self, rule_id: str, operation: str, location: str, pointer: str, message: str) -> None:
        rule = RULES[rule_id]
        self.changes.append(Change(rule.id, rule.level, operation, location, pointer, message))

    # The document ---------------------------------------------------------------------------

    def document(self) -> None:
        old, new = self.old.root, self.new.root
        if old.get("openapi") != new.get("openapi"):
            message = f"openapi {old.get('openapi')} → {new.get('openapi')}"
            self.emit("openapi-version-changed", "", "document", "/openapi", message)
        for key in ("info", "tags", "externalDocs"):
            if _canonical(old.get(key)) != _canonical(new.get(key)):
                self.emit("documentation-changed", "", key, f"/{key}", f"{key} changed")
        handled = {"openapi", "info", "tags", "externalDocs", "security", "paths"}
        handled.add("components")
        self.leftovers(dict(old), dict(new), "", "", "document", handled)
        self.paths()
        self.components()

    def leftovers(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        pointer: str,
        operation: str,
        location: str,
        handled: Iterable[str],
        doc_keys: frozenset[str] = DOC_KEYS,
    ) -> None:
        """Report the keys no rule looked at: documentation, extensions, or unclassified."""
        skip = set(handled)
        for key in sorted(set(old) | set(new)):
            if key in skip or _canonical(old.get(key)) == _canonical(new.get(key)):
                continue
            where = f"{pointer}/{escape_pointer(key)}"
            if key.startswith("x-"):
                self.emit("extension-changed", operation, location, where, f"{key} changed")
            elif key == "servers":
                self.emit("servers-changed", operation, location, where, "the servers list changed")
            elif key in doc_keys:
                self.emit("documentation-changed", operation, location, where, f"{key} changed")
            else:
                verb = "added" if key not in old else "removed" if key not in new else "changed"
                message = f"{key} {verb}; no rule classifies it, review it by hand"
                self.emit("unclassified-change", operation, location, where, message)

    def components(self) -> None:
        old = _mapping(self.old.root.get("components"))
        new = _mapping(self.new.root.get("components"))
        for section in sorted(set(old) | set(new)):
            old_items, new_items = _mapping(old.get(section)), _mapping(new.get(section))
            if section.startswith("x-"):
                continue
            for name in sorted(set(old_items) | set(new_items)):
                pointer = f"/components/{escape_pointer(section)}/{escape_pointer(name)}"
                label = f"components.{section}.{name}"
                if name not in new_items:
                    self.emit("component-removed", "", label, pointer, f"{label} was removed")
                elif name not in old_items:
                    self.emit("component-added", "", label, pointer, f"{label} was added")
                elif section == "securitySchemes":
                    o, n = _mapping(old_items[name]), _mapping(new_items[name])
                    doc = DOC_KEYS | {"bearerFormat"}
                    keys = {k for k in set(o) | set(n) if k in doc or k.startswith("x-")}
                    self.leftovers(o, n, pointer, "", label, (set(o) | set(n)) - keys)

    # Paths and operations ---------------------------------------------------------------

    def paths(self) -> None:
        old = self._path_items(self.old)
        new = self._path_items(self.new)
        for key in sorted(set(old) | set(new)):
            if key not in new:
                template, item, pointer = old[key]
                for method, _ in self._operations(self.old, item, pointer):
                    operation = f"{method.upper()} {template}"
                    where = f"{pointer}/{method}"
                    self.emit("api-path-removed", operation, "path", where, "the path was removed")
            elif key not in old:
                template, item, pointer = new[key]
                for method, _ in self._operations(self.new, item, pointer):
                    operation = f"{method.upper()} {template}"
                    where = f"{pointer}/{method}"
                    self.emit("api-path-added", operation, "path", where, "a new path")
            else:
                self.path_item(old[key], new[key])

    def _path_items(self, doc: _Doc) -> dict[str, tuple[str, Any, str]]:
        result: dict[str, tuple[str, Any, str]] = {}
        for template, raw in sorted(_mapping(doc.root.get("paths")).items()):
            if template.startswith("x-"):
                continue
            item, pointer = doc.resolve(raw, f"/paths/{escape_pointer(template)}")
            key = _path_key(template)
            if key in result:  # the same path but for parameter names: match it by its text
                key = f"={template}"
            result[key] = (template, _mapping(item), pointer)
        return result

    def _operations(self, doc: _Doc, item: Any, pointer: str) -> Iterator[tuple[str, Any]]:
        for method in HTTP_METHODS:
            if isinstance(_mapping(item).get(method), dict):
                yield method, doc.resolve(item[method], f"{pointer}/{method}")[0]

    def path_item(self, old: tuple[str, Any, str], new: tuple[str, Any, str]) -> None:
        old_template, old_item, old_pointer = old
        new_template, new_item, new_pointer = new
        old_ops = dict(self._operations(self.old, old_item, old_pointer))
        new_ops = dict(self._operations(self.new, new_item, new_pointer))
        for method in HTTP_METHODS:
            if method in old_ops and method not in new_ops:
                operation = f"{method.upper()} {old_template}"
                where = f"{old_pointer}/{method}"
                self.emit("api-removed", operation, "operation", where, "the operation was removed")
            elif method in new_ops and method not in old_ops:
                operation = f"{method.upper()} {new_template}"
                where = f"{new_pointer}/{method}"
                self.emit("api-added", operation, "operation", where, "a new operation")
            elif method in old_ops:
                self.operation(method, old, new, old_ops[method], new_ops[method])
        handled = {*HTTP_METHODS, "parameters", "$ref"}
        label = f"path {new_template}"
        self.leftovers(old_item, new_item, new_pointer, "", label, handled)

    def operation(
        self,
        method: str,
        old_path: tuple[str, Any, str],
        new_path: tuple[str, Any, str],
        old: Any,
        new: Any,
    ) -> None:
        old_template, old_item, old_path_pointer = old_path
        new_template, new_item, new_path_pointer = new_path
        old_op, new_op = _mapping(old), _mapping(new)
        operation = f"{method.upper()} {new_template}"
        old_pointer = f"{old_path_pointer}/{method}"
        pointer = f"{new_path_pointer}/{method}"
        self._seen.clear()

        old_id, new_id = old_op.get("operationId"), new_op.get("operationId")
        if old_id != new_id:
            message = (
                f"operationId {old_id!r} → {new_id!r}; generated method names follow, so "
                "implementations must rename theirs"
            )
            where = f"{pointer}/operationId"
            self.emit("api-operation-id-changed", operation, "operation", where, message)
        old_dep, new_dep = old_op.get("deprecated") is True, new_op.get("deprecated") is True
        if old_dep != new_dep:
            rule = "api-deprecated" if new_dep else "api-reactivated"
            message = "the operation became deprecated" if new_dep else "no longer deprecated"
            self.emit(rule, operation, "operation", f"{pointer}/deprecated", message)
        self.security(operation, old_op, new_op, pointer)
        self.parameters(
            operation,
            (old_template, old_item, old_op, old_pointer),
            (new_template, new_item, new_op, pointer),
        )
        self.request_body(operation, old_op, new_op, old_pointer, pointer)
        self.responses(operation, old_op, new_op, old_pointer, pointer)
        handled = {
            "operationId",
            "deprecated",
            "security",
            "parameters",
            "requestBody",
            "responses",
        }
        self.leftovers(old_op, new_op, pointer, operation, "operation", handled)

    # Security -------------------------------------------------------------------------------

    def _requirements(self, doc: _Doc, op: dict[str, Any]) -> list[dict[tuple[str, ...], set[str]]]:
        """The accepted alternatives, each a map of scheme identity → scopes; {} is anonymous."""
        raw = op["security"] if "security" in op else doc.root.get("security")
        raw = raw if isinstance(raw, list) and raw else [{}]
        schemes = _mapping(_mapping(doc.root.get("components")).get("securitySchemes"))
        alternatives: list[dict[tuple[str, ...], set[str]]] = []
        for requirement in raw:
            alternative: dict[tuple[str, ...], set[str]] = {}
            for name, scopes in _mapping(requirement).items():
                scheme, _ = doc.resolve(schemes.get(name), "")
                identity = _scheme_identity(name, scheme)
                alternative[identity] = (
                    {str(s) for s in scopes} if isinstance(scopes, list) else set()
                )
            alternatives.append(alternative)
        return alternatives

    def security(
        self, operation: str, old_op: dict[str, Any], new_op: dict[str, Any], pointer: str
    ) -> None:
        old = self._requirements(self.old, old_op)
        new = self._requirements(self.new, new_op)
        where = f"{pointer}/security"
        if sorted(map(_requirement_text, old)) == sorted(map(_requirement_text, new)):
            return
        old_open, new_open = {} in old, {} in new
        if new_open:
            accepted = " or ".join(_requirement_text(a) for a in new)
            if old_open:
                message = f"credentials stay optional; it accepts {accepted}"
            else:
                message = f"anonymous requests are now accepted; it accepts {accepted}"
            self.emit("api-security-relaxed", operation, "security", where, message)
            return
        if old_open:
            accepted = " or ".join(_requirement_text(a) for a in new)
            message = f"anonymous requests are no longer accepted; it needs {accepted}"
            self.emit("api-security-added", operation, "security", where, message)
            return
        lost = [a for a in old if not any(_satisfies(a, b) for b in new)]
        if lost:
            names = ", ".join(_requirement_text(a) for a in lost)
            accepted = " or ".join(_requirement_text(a) for a in new)
            message = f"credentials for {names} no longer work; it accepts {accepted}"
            self.emit("api-security-changed", operation, "security", where, message)
        else:
            accepted = " or ".join(_requirement_text(a) for a in new)
            message = f"every old credential still works; it now accepts {accepted}"
            self.emit("api-security-relaxed", operation, "security", where, message)

    # Parameters ---------------------------------------------------------------------------

    def _parameters(
        self, doc: _Doc, template: str, item: dict[str, Any], op: dict[str, Any], pointer: str
    ) -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
        names = _PATH_PARAMETER.findall(template)
        result: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        path_pointer = pointer.rsplit("/", 1)[0]
        sources = ((item, f"{path_pointer}/parameters"), (op, f"{pointer}/parameters"))
        for owner, where in sources:
            raw = owner.get("parameters")
            for index, entry in enumerate(raw if isinstance(raw, list) else []):
                param, param_pointer = doc.resolve(entry, f"{where}/{index}")
                if not isinstance(param, dict) or not isinstance(param.get("name"), str):
                    continue
                location, name = str(param.get("in", "")), param["name"]
                if location == "path" and name in names:
                    key = ("path", f"#{names.index(name)}")
                else:
                    key = (location, name.lower() if location == "header" else name)
                result[key] = (param, param_pointer)
        return result

    def parameters(self, operation: str, old_side: _OpSide, new_side: _OpSide) -> None:
        old = self._parameters(self.old, *old_side)
        new = self._parameters(self.new, *new_side)
        removed = [k for k in old if k not in new]
        added = [k for k in new if k not in old]
        moved: set[tuple[str, str]] = set()
        for old_key in removed:
            old_param, _ = old[old_key]
            for new_key in added:
                new_param, new_where = new[new_key]
                if new_key not in moved and new_param["name"] == old_param["name"]:
                    message = (
                        f'parameter "{old_param["name"]}" moved from {old_key[0]} '
                        f"to {new_key[0]}; clients still send it in the old place"
                    )
                    label = _parameter_label(new_param)
                    self.emit(
                        "request-parameter-location-changed", operation, label, new_where, message
                    )
                    moved.update((old_key, new_key))
                    break
        for key in sorted(removed):
            if key in moved:
                continue
            param, where = old[key]
            message = "the parameter was removed; what clients send for it is ignored"
            self.emit(
                "request-parameter-removed", operation, _parameter_label(param), where, message
            )
        for key in sorted(added):
            if key in moved:
                continue
            param, where = new[key]
            if _required(param):
                rule, message = "request-parameter-added-required", "a new required parameter"
            else:
                rule, message = "request-parameter-added-optional", "a new optional parameter"
            self.emit(rule, operation, _parameter_label(param), where, message)
        for key in sorted(k for k in old if k in new):
            self.parameter(operation, old[key], new[key])

    def parameter(
        self,
        operation: str,
        old: tuple[dict[str, Any], str],
        new: tuple[dict[str, Any], str],
    ) -> None:
        (old_param, old_pointer), (new_param, pointer) = old, new
        label = _parameter_label(new_param)
        if old_param["name"] != new_param["name"]:
            message = (
                f'renamed from "{old_param["name"]}" to "{new_param["name"]}"; URLs are '
                "unchanged, generated keyword arguments are renamed"
            )
            self.emit("request-path-parameter-renamed", operation, label, pointer, message)
        old_required, new_required = _required(old_param), _required(new_param)
        if old_required != new_required:
            rule = f"request-parameter-became-{'required' if new_required else 'optional'}"
            message = "became required" if new_required else "became optional"
            self.emit(rule, operation, label, f"{pointer}/required", message)
        old_dep, new_dep = old_param.get("deprecated") is True, new_param.get("deprecated") is True
        if old_dep != new_dep:
            rule = "request-parameter-deprecated" if new_dep else "request-parameter-reactivated"
            message = "became deprecated" if new_dep else "no longer deprecated"
            self.emit(rule, operation, label, f"{pointer}/deprecated", message)
        old_style, new_style = _serialization(old_param), _serialization(new_param)
        if old_style != new_style:
            message = f"serialization {_style_text(old_style)} → {_style_text(new_style)}"
            rule = "request-parameter-serialization-changed"
            self.emit(rule, operation, label, pointer, message)
        old_schema, old_where = _parameter_schema(old_param, old_pointer)
        new_schema, new_where = _parameter_schema(new_param, pointer)
        where = _Where(operation, "request", "request-parameter", label)
        self.schema(
            _normalise(self.old, old_schema, old_where),
            _normalise(self.new, new_schema, new_where),
            where,
        )
        old_media = sorted(_mapping(old_param.get("content")))
        new_media = sorted(_mapping(new_param.get("content")))
        if old_media != new_media:
            message = f"content media types {old_media} → {new_media}; review it by hand"
            self.emit("unclassified-change", operation, label, f"{pointer}/content", message)
        handled = {"name", "in", "required", "deprecated", "schema", "content"}
        handled |= {"style", "explode", "allowReserved", "allowEmptyValue"}
        self.leftovers(old_param, new_param, pointer, operation, label, handled)

    # Request bodies -----------------------------------------------------------------------

    def request_body(
        self,
        operation: str,
        old_op: dict[str, Any],
        new_op: dict[str, Any],
        old_pointer: str,
        pointer: str,
    ) -> None:
        old, old_where = self.old.get(old_op, "requestBody", old_pointer)
        new, where = self.new.get(new_op, "requestBody", pointer)
        label = "request body"
        if old is None and new is None:
            return
        if old is None:
            if _mapping(new).get("required") is True:
                rule, message = "request-body-added-required", "a new required request body"
            else:
                rule, message = "request-body-added-optional", "a new optional request body"
            self.emit(rule, operation, label, where, message)
            return
        if new is None:
            message = "the request body was removed; what clients send is ignored"
            self.emit("request-body-removed", operation, label, old_where, message)
            return
        old, new = _mapping(old), _mapping(new)
        old_required, new_required = old.get("required") is True, new.get("required") is True
        if old_required != new_required:
            rule = f"request-body-became-{'required' if new_required else 'optional'}"
            message = "became required" if new_required else "became optional"
            self.emit(rule, operation, label, f"{where}/required", message)
        self.content(operation, "request", label, old, new, old_where, where)
        self.leftovers(old, new, where, operation, label, {"required", "content"})

    def content(
        self,
        operation: str,
        direction: Direction,
        label: str,
        old: dict[str, Any],
        new: dict[str, Any],
        old_pointer: str,
        pointer: str,
    ) -> None:
        old_media, new_media = _mapping(old.get("content")), _mapping(new.get("content"))
        prefix = "request-body" if direction == "request" else "response"
        for media_type in sorted(set(old_media) | set(new_media)):
            where = f"{pointer}/content/{escape_pointer(media_type)}"
            old_where = f"{old_pointer}/content/{escape_pointer(media_type)}"
            if media_type not in new_media:
                message = f"{media_type} is no longer " + (
                    "accepted" if direction == "request" else "returned"
                )
                self.emit(f"{prefix}-media-type-removed", operation, label, old_where, message)
            elif media_type not in old_media:
                message = f"{media_type} is now " + (
                    "accepted" if direction == "request" else "possible"
                )
                self.emit(f"{prefix}-media-type-added", operation, label, where, message)
            else:
                old_entry, new_entry = (
                    _mapping(old_media[media_type]),
                    _mapping(new_media[media_type]),
                )
                root = "request-body" if direction == "request" else "response-body"
                place = _Where(operation, direction, root, f"{label} ({media_type})")
                self.schema(
                    _normalise(self.old, old_entry.get("schema"), f"{old_where}/schema"),
                    _normalise(self.new, new_entry.get("schema"), f"{where}/schema"),
                    place,
                )
                self.leftovers(old_entry, new_entry, where, operation, place.label, {"schema"})

    # Responses ----------------------------------------------------------------------------

    def responses(
        self,
        operation: str,
        old_op: dict[str, Any],
        new_op: dict[str, Any],
        old_pointer: str,
        pointer: str,
    ) -> None:
        old = {str(k).upper(): k for k in _mapping(old_op.get("responses"))}
        new = {str(k).upper(): k for k in _mapping(new_op.get("responses"))}
        for status in sorted(set(old) | set(new)):
            success = status.startswith("2")
            label = f"response {status.lower() if status == 'DEFAULT' else status}"
            kind = "success" if success else "non-success"
            if status not in new:
                where = f"{old_pointer}/responses/{escape_pointer(old[status])}"
                message = f"status {status} is no longer returned"
                self.emit(f"response-{kind}-status-removed", operation, label, where, message)
                continue
            if status not in old:
                where = f"{pointer}/responses/{escape_pointer(new[status])}"
                message = f"status {status} is now possible"
                self.emit(f"response-{kind}-status-added", operation, label, where, message)
                continue
            old_resp, old_where = self.old.get(
                old_op["responses"], old[status], f"{old_pointer}/responses"
            )
            new_resp, where = self.new.get(new_op["responses"], new[status], f"{pointer}/responses")
            old_resp, new_resp = _mapping(old_resp), _mapping(new_resp)
            self.content(operation, "response", label, old_resp, new_resp, old_where, where)
            self.headers(operation, label, old_resp, new_resp, old_where, where)
            handled = {"content", "headers", "links"}
            self.leftovers(old_resp, new_resp, where, operation, label, handled)
            if _canonical(old_resp.get("links")) != _canonical(new_resp.get("links")):
                message = "links changed"
                self.emit("documentation-changed", operation, label, f"{where}/links", message)

    def headers(
        self,
        operation: str,
        label: str,
        old: dict[str, Any],
        new: dict[str, Any],
        old_pointer: str,
        pointer: str,
    ) -> None:
        old_headers = {k.lower(): k for k in _mapping(old.get("headers"))}
        new_headers = {k.lower(): k for k in _mapping(new.get("headers"))}
        for key in sorted(set(old_headers) | set(new_headers)):
            if key not in new_headers:
                name = old_headers[key]
                header, where = self.old.get(old["headers"], name, f"{old_pointer}/headers")
                place = f'{label} header "{name}"'
                if _mapping(header).get("required") is True:
                    message = "a required header is no longer sent"
                    self.emit("response-required-header-removed", operation, place, where, message)
                else:
                    message = "an optional header is no longer sent"
                    self.emit("response-optional-header-removed", operation, place, where, message)
                continue
            name = new_headers[key]
            new_header, where = self.new.get(new["headers"], name, f"{pointer}/headers")
            place = f'{label} header "{name}"'
            if key not in old_headers:
                self.emit("response-header-added", operation, place, where, "a new header")
                continue
            old_header, old_where = self.old.get(
                old["headers"], old_headers[key], f"{old_pointer}/headers"
            )
            old_header, new_header = _mapping(old_header), _mapping(new_header)
            old_required = old_header.get("required") is True
            new_required = new_header.get("required") is True
            if old_required != new_required:
                rule = f"response-header-became-{'required' if new_required else 'optional'}"
                message = "became required" if new_required else "became optional"
                self.emit(rule, operation, place, f"{where}/required", message)
            old_schema, old_schema_where = _parameter_schema(old_header, old_where)
            new_schema, new_schema_where = _parameter_schema(new_header, where)
            self.schema(
                _normalise(self.old, old_schema, old_schema_where),
                _normalise(self.new, new_schema, new_schema_where),
                _Where(operation, "response", "response-header", place),
            )
            handled = {"required", "schema", "content", "style", "explode", "deprecated"}
            self.leftovers(old_header, new_header, where, operation, place, handled)

    # Schemas --------------------------------------------------------------------------------

    def schema_rule(self, where: _Where, aspect: str, pointer: str, message: str) -> None:
        rule = subject_rule(where.subject, aspect)
        if rule is not None:
            self.emit(rule, where.operation, where.location, pointer, message)

    def schema(self, old: _Schema, new: _Schema, where: _Where) -> None:
        """Compare two schemas and, breadth first, everything inside them.

        Breadth first, a schema reached on several paths (or through a cycle) is reported at its
        shallowest location, and nesting depth never meets Python's recursion limit.
        """
        self._queue.append((old, new, where))
        if self._draining:
            return
        self._draining = True
        try:
            while self._queue:
                self._schema(*self._queue.popleft())
        finally:
            self._draining = False
            self._queue.clear()

    def _schema(self, old: _Schema, new: _Schema, where: _Where) -> None:
        key = (old.pointer, new.pointer, where.direction, where.subject, where.label)
        if key in self._seen or len(where.path) > _MAX_DEPTH:
            return
        self._seen.add(key)
        pointer = new.pointer
        nested = bool(where.path)
        request = where.direction == "request"

        if nested and request:
            old_ro, new_ro = old.node.get("readOnly") is True, new.node.get("readOnly") is True
            if old_ro != new_ro:
                aspect = "became-read-only" if new_ro else "became-not-read-only"
                message = "clients may no longer send it" if new_ro else "clients may now send it"
                self.schema_rule(where, aspect, pointer, message)
            if old_ro and new_ro:
                return  # never part of a request: nothing else about it matters here
        if nested and not request:
            old_wo, new_wo = old.node.get("writeOnly") is True, new.node.get("writeOnly") is True
            if old_wo != new_wo:
                aspect = "became-write-only" if new_wo else "became-not-write-only"
                message = "no longer returned" if new_wo else "now returned"
                self.schema_rule(where, aspect, pointer, message)
            if old_wo and new_wo:
                return

        old_dep, new_dep = old.node.get("deprecated") is True, new.node.get("deprecated") is True
        if old_dep != new_dep:
            aspect, message = (
                ("deprecated", "became deprecated")
                if new_dep
                else (
                    "reactivated",
                    "no longer deprecated",
                )
            )
            self.schema_rule(where, aspect, pointer, message)

        if old.branches is not None or new.branches is not None:
            self.union(old, new, where)
            self.schema_leftovers(old, new, where)
            return
        if old.types != new.types:
            old_text, new_text = _types_text(old.types), _types_text(new.types)
            message = f"type {old_text} → {new_text}"
            if request and _covers(new.types, old.types):
                self.schema_rule(where, "type-widened", pointer, message)
            elif not request and _covers(old.types, new.types):
                self.schema_rule(where, "type-narrowed", pointer, message)
            else:
                self.schema_rule(where, "type-changed", pointer, message)
                self.schema_leftovers(old, new, where)
                return

        if old.nullable != new.nullable:
            aspect = "became-nullable" if new.nullable else "became-not-nullable"
            message = "null is now allowed" if new.nullable else "null is no longer allowed"
            self.schema_rule(where, aspect, pointer, message)
        self.enum(old, new, where)
        self.constraints(old, new, where)
        self.default(old, new, where)
        self.properties(old, new, where)
        self.items(old, new, where)
        self.schema_leftovers(old, new, where)

    def schema_leftovers(self, old: _Schema, new: _Schema, where: _Where) -> None:
        handled = set(_SCHEMA_HANDLED)
        old_node = _merged_allof(self.old, old.node)
        new_node = _merged_allof(self.new, new.node)
        if not (where.direction == "request" and where.path):
            handled.discard("readOnly")
        if not (where.direction == "response" and where.path):
            handled.discard("writeOnly")
        if where.direction == "response":
            handled.discard("default")
        doc_keys = _SCHEMA_DOC_KEYS | {"readOnly", "writeOnly", "default"}
        self.leftovers(
            old_node, new_node, new.pointer, where.operation, where.location, handled, doc_keys
        )

    def enum(self, old: _Schema, new: _Schema, where: _Where) -> None:
        pointer = new.pointer
        if old.enum is None and new.enum is None:
            return
        if old.enum is None:
            assert new.enum is not None
            values = ", ".join(sorted(new.enum))
            self.schema_rule(where, "became-enum", pointer, f"restricted to {values}")
        elif new.enum is None:
            self.schema_rule(where, "enum-removed", pointer, "no longer restricted to an enum")
        else:
            removed = sorted(set(old.enum) - set(new.enum))
            added = sorted(set(new.enum) - set(old.enum))
            if removed:
                message = f"enum value{'s' * (len(removed) > 1)} removed: {', '.join(removed)}"
                self.schema_rule(where, "enum-value-removed", pointer, message)
            if added:
                message = f"enum value{'s' * (len(added) > 1)} added: {', '.join(added)}"
                self.schema_rule(where, "enum-value-added", pointer, message)

    def constraints(self, old: _Schema, new: _Schema, where: _Where) -> None:
        old_node = _merged_allof(self.old, old.node)
        new_node = _merged_allof(self.new, new.node)
        pointer = new.pointer
        for bounds, upper in ((UPPER_BOUNDS, True), (LOWER_BOUNDS, False)):
            for keyword, name in bounds.items():
                old_value, new_value = old_node.get(keyword), new_node.get(keyword)
                if old_value is None and new_value is None:
                    continue
                verdict = _bound_verdict(keyword, old_value, new_value, upper)
                if verdict is not None:
                    message = f"{keyword} {_shown(old_value)} → {_shown(new_value)}"
                    self.schema_rule(where, f"{name}-{verdict}", pointer, message)
        for keyword, name in OTHER_CONSTRAINTS.items():
            old_value, new_value = old_node.get(keyword), new_node.get(keyword)
            if old_value is None and new_value is None:
                continue
            verdict = _other_verdict(keyword, old_value, new_value)
            if verdict is not None and (verdict != "changed" or name in CHANGEABLE):
                message = f"{keyword} {_shown(old_value)} → {_shown(new_value)}"
                self.schema_rule(where, f"{name}-{verdict}", pointer, message)

    def default(self, old: _Schema, new: _Schema, where: _Where) -> None:
        if where.direction != "request":
            return
        old_has, new_has = "default" in old.node, "default" in new.node
        old_value, new_value = old.node.get("default"), new.node.get("default")
        pointer = f"{new.pointer}/default"
        if old_has and new_has and _canonical(old_value) != _canonical(new_value):
            message = f"default {_literal(old_value)} → {_literal(new_value)}"
            self.schema_rule(where, "default-changed", pointer, message)
        elif old_has and not new_has:
            message = f"default {_literal(old_value)} removed"
            self.schema_rule(where, "default-removed", pointer, message)
        elif new_has and not old_has:
            self.schema_rule(
                where, "default-added", pointer, f"default {_literal(new_value)} added"
            )

    def properties(self, old: _Schema, new: _Schema, where: _Where) -> None:
        request = where.direction == "request"
        names = set(old.properties) | set(new.properties) | set(old.required) | set(new.required)
        for name in sorted(names):
            child = where.child(name)
            old_raw = old.properties.get(name)
            new_raw = new.properties.get(name)
            old_prop = _normalise(self.old, *old_raw) if old_raw else None
            new_prop = _normalise(self.new, *new_raw) if new_raw else None
            hidden_old = old_prop is not None and _hidden(old_prop, request)
            hidden_new = new_prop is not None and _hidden(new_prop, request)
            old_req, new_req = name in old.required, name in new.required
            new_where = (
                new_raw[1] if new_raw else f"{new.pointer}/properties/{escape_pointer(name)}"
            )
            old_where = (
                old_raw[1] if old_raw else f"{old.pointer}/properties/{escape_pointer(name)}"
            )
            if old_prop is None and new_prop is None:
                if old_req != new_req:  # required without a schema: "any value"
                    self._required_changed(child, new_where, old_req, new_req)
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
                self.emit(rule, where.operation, child.location, new_where, message)
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
                self.emit(rule, where.operation, child.location, old_where, message)
                continue
            if old_req != new_req and not (hidden_old and hidden_new):
                self._required_changed(child, new_where, old_req, new_req)
            self.schema(old_prop, new_prop, child)

    def _required_changed(self, where: _Where, pointer: str, old: bool, new: bool) -> None:
        became = "required" if new else "optional"
        prefix = "request" if where.direction == "request" else "response"
        message = f"the property became {became}"
        self.emit(
            f"{prefix}-property-became-{became}", where.operation, where.location, pointer, message
        )

    def items(self, old: _Schema, new: _Schema, where: _Where) -> None:
        if old.items is not None and new.items is not None:
            self.schema(
                _normalise(self.old, *old.items),
                _normalise(self.new, *new.items),
                where.child("[]"),
            )
        old_extra, new_extra = old.additional, new.additional
        old_open = old_extra is None or old_extra[0] is not False
        new_open = new_extra is None or new_extra[0] is not False
        pointer = f"{new.pointer}/additionalProperties"
        if old_open and not new_open:
            message = "additional properties are no longer allowed"
            self.schema_rule(where, "additional-properties-tightened", pointer, message)
        elif new_open and not old_open:
            message = "additional properties are now allowed"
            self.schema_rule(where, "additional-properties-relaxed", pointer, message)
        elif (
            old_extra is not None
            and new_extra is not None
            and isinstance(old_extra[0], dict)
            and isinstance(new_extra[0], dict)
        ):
            self.schema(
                _normalise(self.old, *old_extra),
                _normalise(self.new, *new_extra),
                where.child("{}"),
            )
        elif old_extra is None and new_extra is not None and isinstance(new_extra[0], dict):
            message = "additional properties became restricted to a schema"
            self.schema_rule(where, "additional-properties-tightened", pointer, message)
        elif new_extra is None and old_extra is not None and isinstance(old_extra[0], dict):
            message = "additional properties are no longer restricted to a schema"
            self.schema_rule(where, "additional-properties-relaxed", pointer, message)

    def union(self, old: _Schema, new: _Schema, where: _Where) -> None:
        old_branches = [_normalise(self.old, *b) for b in old.branches or []] or [old]
        new_branches = [_normalise(self.new, *b) for b in new.branches or []] or [new]
        old_nullable = old.nullable or any(b.nullable for b in old_branches)
        new_nullable = new.nullable or any(b.nullable for b in new_branches)
        old_branches = [replace(b, nullable=old_nullable) for b in old_branches]
        new_branches = [replace(b, nullable=new_nullable) for b in new_branches]
        pairs: list[tuple[_Schema, _Schema]] = []
        old_left = list(old_branches)
        new_left = list(new_branches)
        for matcher in (_branch_identity, _branch_kind):
            for old_branch in list(old_left):
                for new_branch in new_left:
                    if matcher(old_branch) == matcher(new_branch):
                        pairs.append((old_branch, new_branch))
                        old_left.remove(old_branch)
                        new_left.remove(new_branch)
                        break
        for old_branch, new_branch in pairs:
            self.schema(old_branch, new_branch, where)
        for branch in old_left:
            message = f"alternative {_branch_text(branch)} removed"
            self.schema_rule(where, "union-branch-removed", branch.pointer, message)
        for branch in new_left:
            message = f"alternative {_branch_text(branch)} added"
            self.schema_rule(where, "union-branch-added", branch.pointer, message)
        if old_nullable != new_nullable:
            aspect = "became-nullable" if new_nullable else "became-not-nullable"
            message = "null is now allowed" if new_nullable else "null is no longer allowed"
            self.schema_rule(where, aspect, new.pointer, message)


# -- small helpers ---------------------------------------------------------------------------


def _hidden(schema: _Schema, request: bool) -> bool:
    """readOnly never appears in a request, writeOnly never in a response."""
    return schema.node.get("readOnly" if request else "writeOnly") is True


def _branch_identity(schema: _Schema) -> str:
    if schema.pointer.startswith("/components/"):
        return schema.pointer
    node = {k: v for k, v in schema.node.items() if k not in _SCHEMA_DOC_KEYS}
    return _canonical(node)


def _branch_kind(schema: _Schema) -> str:
    return _types_text(schema.types)


def _branch_text(schema: _Schema) -> str:
    if schema.pointer.startswith("/components/"):
        return schema.pointer.rsplit("/", 1)[-1]
    return _types_text(schema.types)


def _required(param: dict[str, Any]) -> bool:
    return param.get("in") == "path" or param.get("required") is True


def _parameter_label(param: dict[str, Any]) -> str:
    return f'{param.get("in", "?")} parameter "{param.get("name", "?")}"'


def _parameter_schema(param: dict[str, Any], pointer: str) -> tuple[Any, str]:
    if "schema" in param:
        return param["schema"], f"{pointer}/schema"
    content = _mapping(param.get("content"))
    for media_type, entry in sorted(content.items()):
        if isinstance(entry, dict) and "schema" in entry:
            return entry["schema"], f"{pointer}/content/{escape_pointer(media_type)}/schema"
    return None, f"{pointer}/schema"


def _serialization(param: dict[str, Any]) -> tuple[str, bool, bool, bool]:
    location = param.get("in")
    style = str(param.get("style") or ("form" if location in ("query", "cookie") else "simple"))
    explode = param.get("explode")
    exploded = explode is True if isinstance(explode, bool) else style == "form"
    return style, exploded, param.get("allowReserved") is True, param.get("allowEmptyValue") is True


def _style_text(value: tuple[str, bool, bool, bool]) -> str:
    style, explode, reserved, empty = value
    extras = [f"style={style}", f"explode={str(explode).lower()}"]
    if reserved:
        extras.append("allowReserved")
    if empty:
        extras.append("allowEmptyValue")
    return ", ".join(extras)


def _scheme_identity(name: str, scheme: Any) -> tuple[str, ...]:
    """What a client sends for a scheme; a renamed scheme that is otherwise equal is no change."""
    if not isinstance(scheme, dict):
        return ("undefined", name)
    kind = str(scheme.get("type", ""))
    if kind == "http":
        return ("http", str(scheme.get("scheme", "")).lower())
    if kind == "apiKey":
        location = str(scheme.get("in", ""))
        key = str(scheme.get("name", ""))
        return ("apiKey", location, key.lower() if location == "header" else key)
    if kind == "oauth2":
        return ("oauth2", _canonical(scheme.get("flows")))
    if kind == "openIdConnect":
        return ("openIdConnect", str(scheme.get("openIdConnectUrl", "")))
    return (kind, name)


def _scheme_text(identity: tuple[str, ...]) -> str:
    kind = identity[0]
    if kind == "http":
        return f"http {identity[1]}"
    if kind == "apiKey":
        return f"API key in {identity[1]} {identity[2]!r}"
    if kind == "undefined":
        return f"undefined scheme {identity[1]!r}"
    return kind


def _requirement_text(alternative: dict[tuple[str, ...], set[str]]) -> str:
    if not alternative:
        return "anonymous"
    parts = []
    for identity in sorted(alternative):
        scopes = sorted(alternative[identity])
        text = _scheme_text(identity)
        parts.append(f"{text} [{' '.join(scopes)}]" if scopes else text)
    return " + ".join(parts)


def _satisfies(old: dict[tuple[str, ...], set[str]], new: dict[tuple[str, ...], set[str]]) -> bool:
    """A client holding the credentials of `old` can meet the requirement `new`."""
    return all(identity in old and scopes <= old[identity] for identity, scopes in new.items())
