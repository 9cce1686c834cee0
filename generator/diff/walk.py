"""Walk two OpenAPI documents side by side and classify every change between them.

The walk goes document → paths → operations → security, parameters, request body, responses and
their headers; the schemas it meets go to `generator.diff.schemas`. Local `$ref`s are followed on
both sides, so renaming a component or moving a schema inline is not a change of the API; changes
inside a shared component are reported once per operation using it, at the component's pointer.
Paths are matched with their parameter names blanked (`/runs/{id}` is `/runs/{run_id}`), path
parameters by position.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator.diff.normalise import canonical
from generator.diff.report import DOC_KEYS, METHODS, Report, what_changed
from generator.diff.rules import Change, Direction
from generator.diff.schemas import Place, SchemaComparison
from generator.diff.security import security_change
from generator.diff.side import Side, as_mapping

_PATH_PARAMETER = re.compile(r"\{([^{}/]*)\}")

ParameterKey = tuple[str, str]  # (in, name), a path parameter's name replaced by its position


def compare_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every change from `old` to `new`, classified, without duplicates, in a stable order."""
    report = Report()
    # dict(): the root as an object, as every other node is, whatever Mapping a caller passes
    _Walk(report).document(Side(old, dict(old), ""), Side(new, dict(new), ""))
    return report.changes()


@dataclass(frozen=True, slots=True)
class _PathItem:
    template: str  # as this side writes it: /runs/{run_id}
    side: Side  # the path item, its `$ref` followed; {} when it is not an object

    def operations(self) -> dict[str, _Operation]:
        """Its operations in `METHODS` order. A `$ref` is followed, the pointer kept."""
        found: dict[str, _Operation] = {}
        for method in METHODS:
            written = self.side.child(method)
            if isinstance(written.node, dict):
                operation = written.resolved().mapping
                found[method] = _Operation(
                    self, method, Side(written.document, operation, written.pointer)
                )
        return found


@dataclass(frozen=True, slots=True)
class _Operation:
    """One side's operation, with the path item whose parameters it shares."""

    path: _PathItem
    method: str
    side: Side  # the operation object, at the pointer where the path item names it

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path.template}"

    def parameters(self) -> dict[ParameterKey, Side]:
        """The path item's parameters and the operation's own (which win), by `ParameterKey`."""
        names = _PATH_PARAMETER.findall(self.path.template)
        result: dict[ParameterKey, Side] = {}
        for owner in (self.path.side, self.side):
            listed = owner.child("parameters")
            entries = listed.node if isinstance(listed.node, list) else []
            for index, entry in enumerate(entries):
                param = Side(owner.document, entry, f"{listed.pointer}/{index}").resolved()
                if not isinstance(param.node, dict) or not isinstance(param.node.get("name"), str):
                    continue
                location, name = str(param.node.get("in", "")), param.node["name"]
                if location == "path" and name in names:
                    key = ("path", f"#{names.index(name)}")
                else:
                    key = (location, name.lower() if location == "header" else name)
                result[key] = param
        return result


@dataclass(frozen=True, slots=True)
class _Content:
    """How a request body and a response differ when their media types are compared."""

    direction: Direction
    rule_prefix: str  # of the media-type rules: request-body-media-type-added, ...
    root: str  # the subject of the schema of each media type
    item_root: str  # the subject of its itemSchema (OpenAPI 3.2)
    removed: str  # '<media type> is no longer …'
    added: str  # '<media type> is now …'


_REQUEST_BODY = _Content(
    "request", "request-body", "request-body", "request-item", "accepted", "accepted"
)
_RESPONSE = _Content(
    "response", "response", "response-body", "response-item", "returned", "possible"
)


class _Walk:
    """Both documents, top down; every change found goes to `report`."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.schemas = SchemaComparison(report)

    # The document ---------------------------------------------------------------------------

    def document(self, old: Side, new: Side) -> None:
        old_root, new_root = old.mapping, new.mapping
        if old_root.get("openapi") != new_root.get("openapi"):
            message = f"openapi {old_root.get('openapi')} → {new_root.get('openapi')}"
            self.report.emit("openapi-version-changed", "", "document", "/openapi", message)
        for key in ("info", "tags", "externalDocs"):
            if canonical(old_root.get(key)) != canonical(new_root.get(key)):
                change = what_changed(key, old_root.get(key), new_root.get(key))
                self.report.emit("documentation-changed", "", key, f"/{key}", change)
        handled = {"openapi", "info", "tags", "externalDocs", "security", "paths", "components"}
        self.report.leftovers(old, new, "", "document", handled | {"webhooks"})
        self.paths(old, new)
        self.webhooks(old, new)
        self.components(old, new)

    def webhooks(self, old: Side, new: Side) -> None:
        """OpenAPI 3.1 webhooks: path items by name, compared as oasdiff does, like operations.

        The rules keep their reading (the request is what the caller sends): the provider's
        sender and the subscriber's receiver are both built from the contract, and oasdiff,
        whose suite this follows, judges webhook operations the same way.
        """
        old_hooks, new_hooks = old.child("webhooks"), new.child("webhooks")
        for name in sorted(set(old_hooks.mapping) | set(new_hooks.mapping)):
            if name.startswith("x-"):
                continue
            old_item = _PathItem(f"webhook {name}", _item_side(old_hooks, name))
            new_item = _PathItem(f"webhook {name}", _item_side(new_hooks, name))
            self.path_item(old_item, new_item, "webhook-removed", "webhook-added")

    def components(self, old: Side, new: Side) -> None:
        old_components, new_components = old.child("components"), new.child("components")
        for section in sorted(set(old_components.mapping) | set(new_components.mapping)):
            if section.startswith("x-"):
                continue
            old_section, new_section = old_components.child(section), new_components.child(section)
            old_items, new_items = old_section.mapping, new_section.mapping
            for name in sorted(set(old_items) | set(new_items)):
                pointer = new_section.child(name).pointer
                label = f"components.{section}.{name}"
                if name not in new_items:
                    self.report.emit(
                        "component-removed", "", label, pointer, f"{label} was removed"
                    )
                elif name not in old_items:
                    self.report.emit("component-added", "", label, pointer, f"{label} was added")
                elif section == "securitySchemes":
                    self.security_scheme(label, old_section.child(name), new_section.child(name))

    def security_scheme(self, label: str, old: Side, new: Side) -> None:
        """Documentation and extensions only: what clients send is judged per operation."""
        keys = set(old.mapping) | set(new.mapping)
        doc_keys = DOC_KEYS | {"bearerFormat"}
        judged_per_operation = {k for k in keys if k not in doc_keys and not k.startswith("x-")}
        self.report.leftovers(old, new, "", label, judged_per_operation)

    # Paths and operations ---------------------------------------------------------------

    def paths(self, old: Side, new: Side) -> None:
        old_items, new_items = _path_items(old), _path_items(new)
        for key in sorted(set(old_items) | set(new_items)):
            if key not in new_items:
                for operation in old_items[key].operations().values():
                    self.report.emit(
                        "api-path-removed",
                        operation.label,
                        "path",
                        operation.side.pointer,
                        "the path was removed",
                    )
            elif key not in old_items:
                for operation in new_items[key].operations().values():
                    self.report.emit(
                        "api-path-added",
                        operation.label,
                        "path",
                        operation.side.pointer,
                        "a new path",
                    )
            else:
                self.path_item(old_items[key], new_items[key])

    def path_item(
        self,
        old: _PathItem,
        new: _PathItem,
        removed_rule: str = "api-removed",
        added_rule: str = "api-added",
    ) -> None:
        old_operations, new_operations = old.operations(), new.operations()
        for method in METHODS:
            old_operation, new_operation = old_operations.get(method), new_operations.get(method)
            if old_operation is not None and new_operation is None:
                self.report.emit(
                    removed_rule,
                    old_operation.label,
                    "operation",
                    old_operation.side.pointer,
                    "the operation was removed",
                )
            elif new_operation is not None and old_operation is None:
                self.report.emit(
                    added_rule,
                    new_operation.label,
                    "operation",
                    new_operation.side.pointer,
                    "a new operation",
                )
            elif old_operation is not None and new_operation is not None:
                self.operation(old_operation, new_operation)
        handled = {*METHODS, "parameters", "$ref"}
        self.report.leftovers(old.side, new.side, "", f"path {new.template}", handled)

    def operation(self, old: _Operation, new: _Operation) -> None:
        label = new.label
        # A schema met twice within one operation is compared once; in the next one, again.
        self.schemas = SchemaComparison(self.report)
        old_op, new_op = old.side.mapping, new.side.mapping
        pointer = new.side.pointer

        old_id, new_id = old_op.get("operationId"), new_op.get("operationId")
        if old_id != new_id:
            message = (
                f"operationId {old_id!r} → {new_id!r}; generated method names follow, so "
                "implementations must rename theirs"
            )
            where = f"{pointer}/operationId"
            self.report.emit("api-operation-id-changed", label, "operation", where, message)
        old_dep, new_dep = old_op.get("deprecated") is True, new_op.get("deprecated") is True
        if old_dep != new_dep:
            rule = "api-deprecated" if new_dep else "api-reactivated"
            message = "the operation became deprecated" if new_dep else "no longer deprecated"
            self.report.emit(rule, label, "operation", f"{pointer}/deprecated", message)
        self.security(label, old.side, new.side)
        self.parameters(label, old.parameters(), new.parameters())
        self.request_body(label, old.side, new.side)
        self.responses(label, old.side, new.side)
        handled = {
            "operationId",
            "deprecated",
            "security",
            "parameters",
            "requestBody",
            "responses",
        }
        self.report.leftovers(old.side, new.side, label, "operation", handled)

    def became_required(
        self, rule_prefix: str, operation: str, location: str, pointer: str, old: bool, new: bool
    ) -> None:
        """`<rule_prefix>-became-required` or `-optional` when `required` changed."""
        if old != new:
            became = "required" if new else "optional"
            rule = f"{rule_prefix}-became-{became}"
            self.report.emit(rule, operation, location, f"{pointer}/required", f"became {became}")

    # Security -------------------------------------------------------------------------------

    def security(self, operation: str, old: Side, new: Side) -> None:
        change = security_change(old, new)
        if change is not None:
            rule, message = change
            self.report.emit(rule, operation, "security", f"{new.pointer}/security", message)

    # Parameters ---------------------------------------------------------------------------

    def parameters(
        self, operation: str, old: dict[ParameterKey, Side], new: dict[ParameterKey, Side]
    ) -> None:
        removed = [k for k in old if k not in new]
        added = [k for k in new if k not in old]
        moved: set[ParameterKey] = set()
        for old_key in removed:
            old_name = old[old_key].node["name"]
            for new_key in added:
                new_param = new[new_key]
                if new_key not in moved and new_param.node["name"] == old_name:
                    if old_key[0] == new_key[0] == "path":
                        # one side names a path parameter its template does not have (an
                        # inconsistent document): the same parameter, not a move
                        self.parameter(operation, old[old_key], new_param)
                        moved.update((old_key, new_key))
                        break
                    message = (
                        f'parameter "{old_name}" moved from {old_key[0]} '
                        f"to {new_key[0]}; clients still send it in the old place"
                    )
                    self.report.emit(
                        "request-parameter-location-changed",
                        operation,
                        _parameter_label(new_param.node),
                        new_param.pointer,
                        message,
                    )
                    moved.update((old_key, new_key))
                    break
        for key in sorted(removed):
            if key in moved:
                continue
            param = old[key]
            message = "the parameter was removed; what clients send for it is ignored"
            label = _parameter_label(param.node)
            self.report.emit("request-parameter-removed", operation, label, param.pointer, message)
        for key in sorted(added):
            if key in moved:
                continue
            param = new[key]
            if _required(param.node):
                rule, message = "request-parameter-added-required", "a new required parameter"
            else:
                rule, message = "request-parameter-added-optional", "a new optional parameter"
            self.report.emit(rule, operation, _parameter_label(param.node), param.pointer, message)
        for key in sorted(k for k in old if k in new):
            self.parameter(operation, old[key], new[key])

    def parameter(self, operation: str, old: Side, new: Side) -> None:
        old_param, new_param = old.mapping, new.mapping
        label = _parameter_label(new_param)
        if old_param["name"] != new_param["name"]:
            message = (
                f'renamed from "{old_param["name"]}" to "{new_param["name"]}"; URLs are '
                "unchanged, generated keyword arguments are renamed"
            )
            self.report.emit(
                "request-path-parameter-renamed", operation, label, new.pointer, message
            )
        self.became_required(
            "request-parameter",
            operation,
            label,
            new.pointer,
            _required(old_param),
            _required(new_param),
        )
        old_dep, new_dep = old_param.get("deprecated") is True, new_param.get("deprecated") is True
        if old_dep != new_dep:
            rule = "request-parameter-deprecated" if new_dep else "request-parameter-reactivated"
            message = "became deprecated" if new_dep else "no longer deprecated"
            self.report.emit(rule, operation, label, f"{new.pointer}/deprecated", message)
        old_style, new_style = _serialization(old_param), _serialization(new_param)
        if old_style != new_style:
            message = f"serialization {_style_text(old_style)} → {_style_text(new_style)}"
            rule = "request-parameter-serialization-changed"
            self.report.emit(rule, operation, label, new.pointer, message)
        if _generalized_to_array(old, new):
            message = (
                "type became an array of strings: a form-style query sends one value as "
                "`name=value`, read now as a one-item array"
            )
            where = _parameter_schema(new).pointer
            self.report.emit("request-parameter-type-generalized", operation, label, where, message)
        else:
            self.schemas.compare(
                _parameter_schema(old),
                _parameter_schema(new),
                Place(operation, "request", "request-parameter", label),
            )
        old_media = sorted(as_mapping(old_param.get("content")))
        new_media = sorted(as_mapping(new_param.get("content")))
        if old_media != new_media:
            message = f"content media types {old_media} → {new_media}; review it by hand"
            where = f"{new.pointer}/content"
            self.report.emit("unclassified-change", operation, label, where, message)
        handled = {"name", "in", "required", "deprecated", "schema", "content"}
        handled |= {"style", "explode", "allowReserved", "allowEmptyValue"}
        self.report.leftovers(old, new, operation, label, handled)

    # Request bodies and responses ---------------------------------------------------------

    def request_body(self, operation: str, old: Side, new: Side) -> None:
        old_body, new_body = old.resolved_child("requestBody"), new.resolved_child("requestBody")
        label = "request body"
        if old_body.node is None and new_body.node is None:
            return
        if old_body.node is None:
            if new_body.mapping.get("required") is True:
                rule, message = "request-body-added-required", "a new required request body"
            else:
                rule, message = "request-body-added-optional", "a new optional request body"
            self.report.emit(rule, operation, label, new_body.pointer, message)
            return
        if new_body.node is None:
            message = "the request body was removed; what clients send is ignored"
            self.report.emit("request-body-removed", operation, label, old_body.pointer, message)
            return
        self.became_required(
            "request-body",
            operation,
            label,
            new_body.pointer,
            old_body.mapping.get("required") is True,
            new_body.mapping.get("required") is True,
        )
        self.content(_REQUEST_BODY, operation, label, old_body, new_body)
        self.report.leftovers(old_body, new_body, operation, label, {"required", "content"})

    def responses(self, operation: str, old: Side, new: Side) -> None:
        old_responses, new_responses = old.child("responses"), new.child("responses")
        old_keys = {str(k).upper(): k for k in old_responses.mapping}
        new_keys = {str(k).upper(): k for k in new_responses.mapping}
        for status in sorted(set(old_keys) | set(new_keys)):
            label = f"response {status.lower() if status == 'DEFAULT' else status}"
            kind = "success" if status.startswith("2") else "non-success"
            if status not in new_keys:
                where = old_responses.child(old_keys[status]).pointer
                message = f"status {status} is no longer returned"
                self.report.emit(
                    f"response-{kind}-status-removed", operation, label, where, message
                )
                continue
            if status not in old_keys:
                where = new_responses.child(new_keys[status]).pointer
                message = f"status {status} is now possible"
                self.report.emit(f"response-{kind}-status-added", operation, label, where, message)
                continue
            old_response = old_responses.resolved_child(old_keys[status])
            new_response = new_responses.resolved_child(new_keys[status])
            self.content(_RESPONSE, operation, label, old_response, new_response)
            self.headers(operation, label, old_response, new_response)
            handled = {"content", "headers", "links"}
            self.report.leftovers(old_response, new_response, operation, label, handled)
            old_links, new_links = (
                old_response.mapping.get("links"),
                new_response.mapping.get("links"),
            )
            if canonical(old_links) != canonical(new_links):
                where = f"{new_response.pointer}/links"
                self.report.emit("documentation-changed", operation, label, where, "links changed")

    def content(self, kind: _Content, operation: str, label: str, old: Side, new: Side) -> None:
        """The media types of a request body or a response, and the schema of each."""
        old_content, new_content = old.child("content"), new.child("content")
        old_media, new_media = old_content.mapping, new_content.mapping
        for media_type in sorted(set(old_media) | set(new_media)):
            old_entry, new_entry = old_content.child(media_type), new_content.child(media_type)
            if media_type not in new_media:
                message = f"{media_type} is no longer {kind.removed}"
                rule = f"{kind.rule_prefix}-media-type-removed"
                self.report.emit(rule, operation, label, old_entry.pointer, message)
            elif media_type not in old_media:
                message = f"{media_type} is now {kind.added}"
                rule = f"{kind.rule_prefix}-media-type-added"
                self.report.emit(rule, operation, label, new_entry.pointer, message)
            else:
                place = Place(operation, kind.direction, kind.root, f"{label} ({media_type})")
                self.schemas.compare(old_entry.child("schema"), new_entry.child("schema"), place)
                if "itemSchema" in old_entry.mapping or "itemSchema" in new_entry.mapping:
                    items = Place(operation, kind.direction, kind.item_root, f"{place.label} items")
                    old_items, new_items = (
                        old_entry.child("itemSchema"),
                        new_entry.child("itemSchema"),
                    )
                    self.schemas.compare(old_items, new_items, items)
                handled = {"schema", "itemSchema"}
                self.report.leftovers(old_entry, new_entry, operation, place.label, handled)

    def headers(self, operation: str, label: str, old: Side, new: Side) -> None:
        old_headers, new_headers = old.child("headers"), new.child("headers")
        old_names = {k.lower(): k for k in old_headers.mapping}
        new_names = {k.lower(): k for k in new_headers.mapping}
        for key in sorted(set(old_names) | set(new_names)):
            if key not in new_names:
                name = old_names[key]
                header = old_headers.resolved_child(name)
                place = f'{label} header "{name}"'
                if header.mapping.get("required") is True:
                    rule, message = "response-required-header-removed", "a required header"
                else:
                    rule, message = "response-optional-header-removed", "an optional header"
                message += " is no longer sent"
                self.report.emit(rule, operation, place, header.pointer, message)
                continue
            name = new_names[key]
            new_header = new_headers.resolved_child(name)
            place = f'{label} header "{name}"'
            if key not in old_names:
                self.report.emit(
                    "response-header-added", operation, place, new_header.pointer, "a new header"
                )
                continue
            old_header = old_headers.resolved_child(old_names[key])
            self.became_required(
                "response-header",
                operation,
                place,
                new_header.pointer,
                old_header.mapping.get("required") is True,
                new_header.mapping.get("required") is True,
            )
            self.schemas.compare(
                _parameter_schema(old_header),
                _parameter_schema(new_header),
                Place(operation, "response", "response-header", place),
            )
            handled = {"required", "schema", "content", "style", "explode", "deprecated"}
            self.report.leftovers(old_header, new_header, operation, place, handled)


def _path_key(template: str) -> str:
    return _PATH_PARAMETER.sub("{}", template)


def _path_items(root: Side) -> dict[str, _PathItem]:
    """The path items of a document by `_path_key`; `x-` keys are not paths."""
    paths = root.child("paths")
    result: dict[str, _PathItem] = {}
    for template in sorted(paths.mapping):
        if template.startswith("x-"):
            continue
        item = paths.resolved_child(template)
        key = _path_key(template)
        if key in result:  # the same path but for parameter names: match it by its text
            key = f"={template}"
        result[key] = _PathItem(template, Side(item.document, item.mapping, item.pointer))
    return result


def _item_side(items: Side, name: str) -> Side:
    """A path item by name, its `$ref` followed; {} when there is none."""
    item = items.resolved_child(name)
    return Side(item.document, item.mapping, item.pointer)


def _required(param: dict[str, Any]) -> bool:
    return param.get("in") == "path" or param.get("required") is True


def _parameter_label(param: dict[str, Any]) -> str:
    return f'{param.get("in", "?")} parameter "{param.get("name", "?")}"'


def _parameter_schema(param: Side) -> Side:
    """The schema of a parameter or header: `schema`, else the first media type's in `content`."""
    if "schema" in param.mapping:
        return param.child("schema")
    content = param.child("content")
    for media_type, entry in sorted(content.mapping.items()):
        if isinstance(entry, dict) and "schema" in entry:
            return content.child(media_type).child("schema")
    return param.child("schema")


_PLAIN_KEYS = frozenset({"type", "description", "title", "example", "examples"})


def _generalized_to_array(old: Side, new: Side) -> bool:
    """A form-style query or cookie scalar that became an unconstrained array of strings.

    On the wire both are `name=value` (every value a string); an array of plain strings reads
    any single value a client sent before as a one-item array, so nothing old is rejected.
    """
    if new.mapping.get("in") not in ("query", "cookie") or _serialization(new.mapping)[0] != "form":
        return False
    old_schema = _parameter_schema(old).resolved().mapping
    new_schema = _parameter_schema(new).resolved().mapping
    old_type = old_schema.get("type")
    listed = old_type if isinstance(old_type, list) else ["object"]
    old_types = {old_type} if isinstance(old_type, str) else {str(t) for t in listed}
    if not old_types or old_types & {"array", "object"}:
        return False
    items = Side(new.document, new_schema.get("items"), "").resolved().mapping
    return (
        new_schema.get("type") == "array"
        and set(new_schema) <= _PLAIN_KEYS | {"items"}
        and items.get("type", "string") == "string"
        and set(items) <= _PLAIN_KEYS
    )


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
