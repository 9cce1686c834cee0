"""Build the IR from a validated document: resolve refs, name everything, sort everything."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from generator.codegen import ir, types
from generator.codegen.names import pascal_case, snake_case, unique
from generator.codegen.types import TypeRef
from generator.spec.errors import Diagnostic, UnsupportedSpec
from generator.spec.loader import LoadedSpec
from generator.spec.openapi import HTTP_METHODS, discriminator_values, follow_refs
from generator.spec.pointers import escape_pointer
from generator.spec.streams import is_sequential, sse_events

# OpenAPI says these header parameters are ignored: the HTTP layer owns them.
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
_KEY_LOCATIONS = ("header", "query", "cookie")
_MESSAGE_FIELDS = ("detail", "message", "error", "title")
_CODE_FIELDS = ("error_code", "code", "type")


def build_api(
    spec: LoadedSpec,
    interface_name: str,
    model_names: Mapping[str, str],
    hoisted: Mapping[str, str] | None = None,
) -> ir.Api:
    """`model_names` maps each components/schemas name to the class the models module defines;
    `hoisted`, the pointer of each inline body schema modelled as such a name (inline_bodies)."""
    return _Builder(spec, model_names, hoisted or {}).api(interface_name)


class _Builder:
    def __init__(
        self, spec: LoadedSpec, model_names: Mapping[str, str], hoisted: Mapping[str, str]
    ) -> None:
        self.spec = spec
        self.doc = spec.document
        self.model_names = model_names
        self.hoisted = hoisted
        self.problems: list[Diagnostic] = []
        # Each discriminated union once, by what defines it; the first place that uses it names it.
        self.discriminated: dict[tuple[object, ...], types.Discriminated] = {}

    def api(self, interface_name: str) -> ir.Api:
        info = self.doc.get("info") or {}
        # Every class name the server modules define is settled against the model classes they
        # import (and against each other): a response class, union alias or the interface never
        # shadows a model. The interface is named first, then each operation in path order.
        self.class_names: set[str] = set(self.model_names.values())
        interface_name = unique(interface_name, self.class_names)
        operations = self._operations()
        if self.problems:
            raise UnsupportedSpec(self.problems[0].message, tuple(self.problems))
        return ir.Api(
            title=str(info.get("title", "")),
            version=str(info.get("version", "")),
            interface_name=interface_name,
            operations=operations,
            security_schemes=self._security_schemes(),
            model_names=tuple(sorted(set(self.model_names.values()))),
            discriminated=tuple(self.discriminated.values()),
        )

    # -- references -------------------------------------------------------------------------

    def deref(self, value: Any, pointer: str) -> tuple[Any, str]:
        """Follow `$ref` chains to the object and its pointer (check_refs made them all local)."""
        end = follow_refs(self.doc, value, pointer)
        if end.cycle:
            ref = end.value["$ref"]
            self.problems.append(Diagnostic(self.spec.name, end.pointer, f"$ref cycle at {ref!r}"))
        return (end.value, end.pointer) if end.complete else ({}, end.pointer)

    # -- operations --------------------------------------------------------------------------

    def _operations(self) -> tuple[ir.Operation, ...]:
        method_names: set[str] = set()
        class_prefixes: set[str] = set()
        seen_ids: dict[str, str] = {}
        operations: list[ir.Operation] = []
        paths = self.doc.get("paths") or {}
        for path in sorted(paths):
            item, item_pointer = self.deref(paths[path], f"/paths/{escape_pointer(path)}")
            if not isinstance(item, dict):
                continue
            for method in HTTP_METHODS:
                raw = item.get(method)
                if not isinstance(raw, dict):
                    continue
                pointer = f"{item_pointer}/{method}"
                operation_id = str(raw.get("operationId") or f"{method}_{path}")
                if operation_id in seen_ids:
                    self.problems.append(
                        Diagnostic(
                            self.spec.name,
                            pointer,
                            f"operationId {operation_id!r} is used twice",
                            f"also at {seen_ids[operation_id]}",
                        )
                    )
                    continue
                seen_ids[operation_id] = pointer
                repeated = _repeated_path_parameter(path)
                if repeated:
                    self.problems.append(
                        Diagnostic(
                            self.spec.name,
                            pointer,
                            f"path parameter {{{repeated}}} appears twice in {path!r}",
                            "a server cannot tell the two values apart",
                        )
                    )
                    continue
                method_name = unique(snake_case(operation_id, fallback="op"), method_names)
                prefix = unique(pascal_case(operation_id, fallback="Op"), class_prefixes)
                # The body first: a discriminated union it shares with a response is its own.
                body = self._body(raw.get("requestBody"), f"{pointer}/requestBody", prefix)
                responses = self._responses(raw.get("responses") or {}, pointer, prefix)
                operations.append(
                    ir.Operation(
                        operation_id=operation_id,
                        method_name=method_name,
                        class_prefix=prefix,
                        method=method.upper(),
                        path=path,
                        summary=str(raw.get("summary") or ""),
                        description=str(raw.get("description") or ""),
                        parameters=self._parameters(item, raw, pointer),
                        body=body,
                        responses=responses,
                        security=self._security(raw.get("security", self.doc.get("security"))),
                        union_name=self._union_name(prefix),
                    )
                )
        return tuple(operations)

    def _parameters(
        self, item: dict[str, Any], operation: dict[str, Any], pointer: str
    ) -> tuple[ir.Parameter, ...]:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for source, where in ((item, pointer.rsplit("/", 1)[0]), (operation, pointer)):
            for index, raw in enumerate(source.get("parameters") or []):
                param, _ = self.deref(raw, f"{where}/parameters/{index}")
                if isinstance(param, dict) and "name" in param and "in" in param:
                    merged[(str(param["in"]), str(param["name"]))] = param
        taken: set[str] = {"self"}
        result = []
        for (location, name), param in sorted(merged.items()):
            if location not in ("path", "query", "header", "cookie"):
                continue
            if location == "header" and name.lower() in _IGNORED_HEADERS:
                continue
            schema = param.get("schema")
            if schema is None:
                content = param.get("content") or {}
                first: dict[str, Any] = next(iter(content.values()), {}) if content else {}
                schema = first.get("schema", {})
            resolved, _ = self.deref(schema, "")
            result.append(
                ir.Parameter(
                    wire_name=name,
                    python_name=unique(snake_case(name, fallback="param"), taken),
                    location=location,  # type: ignore[arg-type]
                    required=bool(param.get("required")) or location == "path",
                    annotation=self.annotation(schema),
                    description=str(param.get("description") or ""),
                    constraints=_constraints(resolved),
                    choices=_choices(resolved),
                )
            )
        path = pointer.rsplit("/", 1)[0]
        return tuple(sorted(result, key=lambda p: _parameter_order(p, path)))

    def _body(self, raw: Any, pointer: str, prefix: str) -> ir.RequestBody | None:
        if raw is None:
            return None
        body, pointer = self.deref(raw, pointer)
        content = body.get("content") or {}
        if not content:
            return None
        media_type = preferred_media_type(content)
        schema = (content[media_type] or {}).get("schema") or {}
        kind = body_kind(media_type)
        form_fields: tuple[ir.Parameter, ...] = ()
        if kind in ("form", "multipart"):
            form_fields = self._form_fields(schema, uploads=kind == "multipart")
        if kind == "multipart" and not form_fields:
            kind = "binary"  # no declared parts: the body as it came
        if kind == "multipart":
            annotation: TypeRef = types.ClassRef(unique(f"{prefix}Form", self.class_names))
        elif kind in ("json", "form"):
            schema_pointer = f"{pointer}/content/{escape_pointer(media_type)}/schema"
            model = self.model_names.get(self.hoisted.get(schema_pointer, ""))
            annotation = (
                types.ModelRef(model, f"#{schema_pointer}")
                if model is not None
                else self.annotation(schema, name=f"{prefix}Body")
            )
        else:
            annotation = _RAW[kind]
        return ir.RequestBody(
            media_type=media_type,
            kind=kind,
            annotation=annotation,
            required=bool(body.get("required")),
            form_fields=form_fields,
        )

    def _form_fields(self, schema: Any, *, uploads: bool) -> tuple[ir.Parameter, ...]:
        """The fields of a form body, in the schema's order; with `uploads`, file parts (a
        binary string, or one with a `contentMediaType`) are typed as `UploadFile`."""
        resolved, _ = self.deref(schema, "")
        properties = resolved.get("properties") or {} if isinstance(resolved, dict) else {}
        required = set(resolved.get("required") or []) if isinstance(resolved, dict) else set()
        taken: set[str] = set()
        fields = []
        part = self._part if uploads else self.annotation
        for name, field_schema in properties.items() if isinstance(properties, dict) else ():
            annotation = part(field_schema)
            python_name = snake_case(name, fallback="field")
            if python_name.startswith("_") or python_name in _FORM_RESERVED:
                python_name = f"field_{python_name.lstrip('_')}"
            fields.append(
                ir.Parameter(
                    wire_name=name,
                    python_name=unique(python_name, taken),
                    location="query",
                    required=name in required,
                    annotation=annotation,
                    constraints=_constraints(self.deref(field_schema, "")[0]),
                    default=_scalar_default(self.deref(field_schema, "")[0], annotation),
                )
            )
        return tuple(fields)

    def _part(self, schema: Any, depth: int = 0) -> TypeRef:
        """The type of one multipart field: `UploadFile` where the schema is a file."""
        resolved, _ = self.deref(schema, "")
        if not isinstance(resolved, dict) or depth > 5:
            return self.annotation(schema)
        for combiner in ("anyOf", "oneOf"):
            if isinstance(resolved.get(combiner), list):
                members = [self._part(member, depth + 1) for member in resolved[combiner]]
                return types.union(members, nullable=bool(resolved.get("nullable")))
        kind = resolved.get("type")
        if kind == "array":
            item = types.ListOf(self._part(resolved.get("items", {}), depth + 1))
            return types.union([item], nullable=bool(resolved.get("nullable")))
        if kind == "string" and (
            resolved.get("format") == "binary" or "contentMediaType" in resolved
        ):
            return types.union([types.UPLOAD], nullable=bool(resolved.get("nullable")))
        return self.annotation(schema)

    def _union_name(self, prefix: str) -> str:
        """`GetPetResponse`; `GetPetResult` when a model is called `GetPetResponse` (FastAPI
        documents name their schemas that way); `GetPetResult_2` when both are taken."""
        preferred = f"{prefix}Response"
        if preferred not in self.class_names:
            self.class_names.add(preferred)
            return preferred
        return unique(f"{prefix}Result", self.class_names)

    def _responses(self, raw: dict[str, Any], pointer: str, prefix: str) -> tuple[ir.Response, ...]:
        result = []
        for status in sorted(raw, key=_status_order):
            response, _ = self.deref(raw[status], f"{pointer}/responses/{escape_pointer(status)}")
            if not isinstance(response, dict):
                continue
            all_content = response.get("content") or {}
            content = {k: v for k, v in all_content.items() if not is_sequential(k)}
            media_types = tuple(content)
            suffix = status.upper() if status[0].isdigit() else "Default"
            base_name = f"{prefix}{'_' if prefix[-1].isdigit() else ''}{suffix}"
            streams = [
                self._stream_response(status, response, media_type, media, base_name)
                for media_type, media in all_content.items()
                if is_sequential(media_type)
            ]
            if streams and not content:
                result.extend(streams)
                continue
            annotation: TypeRef | None = None
            shape: ir.ErrorShape | None = None
            if media_types:
                primary = preferred_media_type(content)
                schema = (content[primary] or {}).get("schema", {})
                kind = body_kind(primary)
                annotation = (
                    self.annotation(schema, name=f"{base_name}Body")
                    if kind in ("json", "form")
                    else _RAW[kind]
                )
                if kind == "json":
                    shape = self._error_shape(schema)
            result.append(
                ir.Response(
                    status=status,
                    class_name=unique(base_name, self.class_names),
                    description=str(response.get("description") or ""),
                    media_types=media_types,
                    body_annotation=annotation,
                    error_shape=shape,
                    header_names=tuple(sorted(response.get("headers") or {})),
                )
            )
            result.extend(streams)
        if not result:  # 3.1 allows an operation without responses: it may answer anything
            result.append(
                ir.Response(
                    status="default",
                    class_name=unique(f"{prefix}Default", self.class_names),
                    description="No responses are declared",
                    media_types=(),
                    body_annotation=None,
                )
            )
        return tuple(result)

    # -- streams ------------------------------------------------------------------------------

    def _stream_response(
        self, status: str, response: dict[str, Any], media_type: str, media: Any, base: str
    ) -> ir.Response:
        """The response class of one sequential media type: `{base}Stream` and its item types."""
        class_name = unique(f"{base}Stream", self.class_names)
        item_schema = media.get("itemSchema") if isinstance(media, dict) else None
        base_type = media_type.split(";")[0].strip().lower()
        item_alias = unique(f"{class_name}Item", self.class_names)
        if base_type == "text/event-stream":
            events = self._sse_event_classes(item_schema, base)
            stream = ir.Stream(
                framing="sse",
                item_alias=item_alias,
                item_annotation=types.union(types.ClassRef(e.class_name) for e in events),
                events=events,
            )
        else:
            framing: ir.Framing = "json-seq" if base_type == "application/json-seq" else "jsonl"
            annotation = (
                self.annotation(item_schema, name=f"{class_name}Value")
                if item_schema is not None
                else types.ANY
            )
            stream = ir.Stream(framing=framing, item_alias=item_alias, item_annotation=annotation)
        return ir.Response(
            status=status,
            class_name=class_name,
            description=str(response.get("description") or ""),
            media_types=(media_type,),
            body_annotation=None,
            header_names=tuple(sorted(response.get("headers") or {})),
            stream=stream,
        )

    def _sse_event_classes(self, item_schema: Any, base: str) -> tuple[ir.StreamEvent, ...]:
        named = sse_events(self.doc, item_schema)
        if named:
            return tuple(
                self._event(
                    unique(f"{base}{pascal_case(name, fallback='Event')}", self.class_names),
                    name,
                    data,
                )
                for name, data in named.items()
            )
        item, _ = self.deref(item_schema, "")
        properties = item.get("properties") if isinstance(item, dict) else None
        data_schema, _ = self.deref((properties or {}).get("data"), "")
        content = None
        if (
            isinstance(data_schema, dict)
            and body_kind(str(data_schema.get("contentMediaType", ""))) == "json"
        ):
            content = data_schema.get("contentSchema", {})
        return (self._event(unique(f"{base}Event", self.class_names), None, content),)

    def _event(self, class_name: str, event_name: str | None, data: Any) -> ir.StreamEvent:
        """An SSE event class; `data` is the schema of its JSON data (None: the data is text)."""
        return ir.StreamEvent(
            class_name=class_name,
            event_name=event_name,
            data_annotation=types.STR
            if data is None
            else self.annotation(data, name=f"{class_name}Data"),
            data_is_json=data is not None,
        )

    def _error_shape(self, schema: Any) -> ir.ErrorShape | None:
        resolved, _ = self.deref(schema, "")
        if not isinstance(resolved, dict):
            return None
        properties = resolved.get("properties") or {}
        required = set(resolved.get("required") or [])
        message = next((f for f in _MESSAGE_FIELDS if _is_string(self, properties.get(f))), None)
        if message is None:
            return None
        code = next((f for f in _CODE_FIELDS if _is_string(self, properties.get(f))), None)
        if not required <= {message, code}:
            return None
        return ir.ErrorShape(message_field=message, code_field=code)

    def _security(self, raw: Any) -> tuple[tuple[str, ...], ...]:
        if not raw:
            return ()
        requirements = [r for r in raw if isinstance(r, dict)]
        return tuple(tuple(sorted(requirement)) for requirement in requirements)

    def _security_schemes(self) -> tuple[ir.SecurityScheme, ...]:
        schemes = (self.doc.get("components") or {}).get("securitySchemes") or {}
        result = []
        for name in sorted(schemes):
            scheme, _ = self.deref(schemes[name], "")
            kind: Any = "unsupported"
            location = wire = None
            http_scheme = str(scheme.get("scheme", "")).lower()
            if scheme.get("type") == "http" and http_scheme in ("bearer", "basic"):
                kind = http_scheme
            elif scheme.get("type") == "apiKey" and scheme.get("in") in _KEY_LOCATIONS:
                kind, location, wire = "apiKey", scheme["in"], str(scheme.get("name", ""))
            result.append(
                ir.SecurityScheme(name=name, kind=kind, location=location, wire_name=wire)
            )
        return tuple(result)

    # -- types -------------------------------------------------------------------------------

    def annotation(self, schema: Any, depth: int = 0, name: str | None = None) -> TypeRef:
        """The Python type of a schema; `Any` where the generator cannot be precise.

        `name` is what a discriminated union met here is called (None: a plain union).
        """
        if not isinstance(schema, dict) or depth > 20:
            return types.ANY
        ref = schema.get("$ref")
        if isinstance(ref, str):
            model = self._model(ref)
            if model is not None:
                return model
            target, _ = self.deref(schema, "")
            return self.annotation(target, depth + 1, name)
        for combiner in ("anyOf", "oneOf"):
            if isinstance(schema.get(combiner), list):
                tagged = self._discriminated(schema, combiner, name)
                if tagged is not None:
                    return types.union([tagged], nullable=bool(schema.get("nullable")))
                members = [self.annotation(s, depth + 1, name) for s in schema[combiner]]
                return types.union(members, nullable=bool(schema.get("nullable")))
        kinds = schema.get("type")
        if isinstance(kinds, list):
            return types.union(self._simple(schema, t, depth) for t in kinds)
        if kinds is None and "const" in schema:
            kinds = _json_type(schema["const"])
        result = self._simple(schema, kinds, depth, name)
        return types.union([result], nullable=bool(schema.get("nullable")))

    def _model(self, ref: str) -> types.ModelRef | None:
        """The model class of a `#/components/schemas/...` reference, if it has one."""
        prefix = "#/components/schemas/"
        if ref.startswith(prefix) and ref[len(prefix) :] in self.model_names:
            return types.ModelRef(self.model_names[ref[len(prefix) :]], ref)
        return None

    def _discriminated(
        self, schema: dict[str, Any], combiner: str, name: str | None
    ) -> types.Discriminated | None:
        """A pydantic discriminated union for `oneOf`/`anyOf` of models with a `discriminator`.

        The discriminator value selects the member: each `mapping` entry, and each member's
        schema name that no entry points at (OpenAPI's implicit mapping). It is None (a plain
        union) when a member is not a model reference or nothing names the union.
        """
        discriminator = schema.get("discriminator")
        if name is None or not isinstance(discriminator, dict):
            return None
        property_name = discriminator.get("propertyName")
        if not isinstance(property_name, str) or not property_name:
            return None
        members: list[types.ModelRef] = []
        for option in schema[combiner]:
            ref = option.get("$ref") if isinstance(option, dict) else None
            model = self._model(ref) if isinstance(ref, str) and len(option) == 1 else None
            if model is None:
                return None
            if model not in members:
                members.append(model)
        if len(members) < 2:
            return None
        by_pointer = {member.pointer: member.class_name for member in members}
        values = discriminator_values(discriminator, by_pointer)
        tags = {value: by_pointer[ref] for value, ref in values.items()}
        key = (property_name, tuple(members), tuple(tags.items()))
        if key not in self.discriminated:
            self.discriminated[key] = types.Discriminated(
                alias=unique(name, self.class_names),
                property_name=property_name,
                members=tuple(members),
                tags=tuple(tags.items()),
            )
        return self.discriminated[key]

    def _simple(
        self, schema: dict[str, Any], kind: Any, depth: int, name: str | None = None
    ) -> TypeRef:
        if kind == "string":
            return types.Scalar("bytes") if schema.get("format") == "binary" else types.STR
        if kind in _SCALAR_KINDS:
            return _SCALAR_KINDS[kind]
        if kind == "null":
            return types.NONE
        if kind == "array":
            item_name = None if name is None else f"{name}Item"
            return types.ListOf(self.annotation(schema.get("items", {}), depth + 1, item_name))
        if kind == "object":
            return types.JsonObject()
        return types.ANY


_SCALAR_KINDS: dict[str, TypeRef] = {
    "integer": types.Scalar("int"),
    "number": types.Scalar("float"),
    "boolean": types.Scalar("bool"),
}
# Names a field of a pydantic model cannot have (attributes of BaseModel, pydantic's namespaces).
_FORM_RESERVED = frozenset(
    {*dir(BaseModel), "model_validate", "model_dump", "model_config", "model_fields"}
)
# The type of a body that is not JSON or a form, by its kind.
_RAW: dict[str, TypeRef] = {"text": types.STR, "binary": types.Scalar("bytes")}


def _scalar_default(schema: Any, annotation: TypeRef) -> str | int | float | bool | None:
    """The schema's `default` when it is a value of the annotation's own scalar type."""
    default = schema.get("default") if isinstance(schema, dict) else None
    kind = annotation.without_none()
    name = kind.name if isinstance(kind, types.Scalar) else None
    if name == "bool" and isinstance(default, bool):
        return default
    if isinstance(default, bool):
        return None
    if name == "int" and isinstance(default, int):
        return default
    if name == "float" and isinstance(default, (int, float)):
        return float(default)
    if name == "str" and isinstance(default, str):
        return default
    return None


def _repeated_path_parameter(path: str) -> str | None:
    names = re.findall(r"{([^{}]+)}", path)
    return next((name for name in names if names.count(name) > 1), None)


def _constraints(schema: Any) -> tuple[tuple[str, int | float], ...]:
    """Numeric and length bounds of a scalar parameter, as FastAPI's keyword arguments."""
    if not isinstance(schema, dict):
        return ()
    found: dict[str, int | float] = {}
    numeric = schema.get("type") in ("integer", "number")
    for key, plain, exclusive in (("minimum", "ge", "gt"), ("maximum", "le", "lt")):
        value: Any = schema.get(key)
        flag: Any = schema.get("exclusiveM" + key[1:])
        if numeric and _is_number(value):
            found[exclusive if flag is True else plain] = value
        if numeric and _is_number(flag):  # 3.1: exclusiveMinimum is itself the bound
            found[exclusive] = flag
    if schema.get("type") == "string":
        for key, keyword in (("minLength", "min_length"), ("maxLength", "max_length")):
            if isinstance(schema.get(key), int) and not isinstance(schema.get(key), bool):
                found[keyword] = schema[key]
    return tuple(sorted(found.items()))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _choices(schema: Any) -> tuple[str | int, ...]:
    if not isinstance(schema, dict) or not isinstance(schema.get("enum"), list):
        return ()
    values = schema["enum"]
    kind = schema.get("type")
    if kind == "string" and values and all(isinstance(v, str) for v in values):
        return tuple(values)
    if kind == "integer" and values and all(type(v) is int for v in values):
        return tuple(values)
    return ()


def _parameter_order(param: ir.Parameter, pointer: str) -> tuple[int, int, str]:
    """Path parameters in the order the path names them, then the rest by location and name."""
    if param.location == "path":
        path = pointer.replace("~1", "/").replace("~0", "~")
        position = path.find("{" + param.wire_name + "}")
        return (0, position, "")
    return ({"query": 1, "header": 2, "cookie": 3}[param.location], 0, param.wire_name)


def _json_type(value: Any) -> str | None:
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(value))


def _is_string(builder: _Builder, schema: Any) -> bool:
    if schema is None:
        return False
    return builder.annotation(schema).without_none() == types.STR


def _status_order(status: str) -> tuple[int, str]:
    return (0 if status[:1].isdigit() else 1, status)


def body_kind(media_type: str) -> ir.BodyKind:
    base = media_type.split(";")[0].strip().lower()
    if base == "application/json" or base.endswith("+json") or base == "*/*":
        return "json"
    if base == "application/x-www-form-urlencoded":
        return "form"
    if base == "multipart/form-data":
        return "multipart"
    if base.startswith("text/"):
        return "text"
    return "binary"


def preferred_media_type(content: Mapping[str, Any]) -> str:
    for media_type in content:
        if body_kind(media_type) == "json":
            return media_type
    return next(iter(content))
