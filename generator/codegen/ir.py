"""The intermediate representation: a fully resolved, sorted view of the spec for the templates.

Every object keeps the spec's own (wire) name next to the Python name derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from generator.codegen.types import Discriminated, TypeRef

ParameterLocation = Literal["path", "query", "header", "cookie"]
BodyKind = Literal["json", "form", "multipart", "text", "binary"]


@dataclass(frozen=True, slots=True)
class Parameter:
    wire_name: str
    python_name: str
    location: ParameterLocation
    required: bool
    annotation: TypeRef  # the type of the schema, e.g. `str`, `int`, `list[str]`
    description: str = ""
    # Validation the server applies: (FastAPI keyword, value), e.g. ("ge", 1), sorted.
    constraints: tuple[tuple[str, int | float], ...] = ()
    choices: tuple[str | int, ...] = ()  # the declared enum, when it is one of strings or ints
    # A form field's declared default, when it is a scalar of the field's own type.
    default: str | int | float | bool | None = None


@dataclass(frozen=True, slots=True)
class RequestBody:
    media_type: str
    kind: BodyKind
    annotation: TypeRef
    required: bool
    # Form and multipart bodies: each field, wire and Python name (multipart: files as uploads).
    form_fields: tuple[Parameter, ...] = ()

    @property
    def form_class(self) -> str | None:
        """The class of api.py a multipart body is read into (`{Operation}Form`)."""
        return str(self.annotation) if self.kind == "multipart" else None


@dataclass(frozen=True, slots=True)
class ErrorShape:
    """How the app fills this error body itself: the message field and the optional code field."""

    message_field: str
    code_field: str | None


Framing = Literal["sse", "jsonl", "json-seq"]


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One SSE event class of a stream: its name (None: any name) and the type of its data."""

    class_name: str
    event_name: str | None
    data_annotation: TypeRef
    data_is_json: bool  # contentMediaType application/json: data is sent as JSON, else as text


@dataclass(frozen=True, slots=True)
class Stream:
    """The items of a streaming response: SSE events, or one JSON value per line (JSON Lines)."""

    framing: Framing
    item_alias: str  # the TypeAlias of one item
    item_annotation: TypeRef  # SSE: the union of the event classes; else the item's type
    events: tuple[StreamEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class Response:
    status: str  # "200", "4XX" or "default", as in the spec
    class_name: str
    description: str
    media_types: tuple[str, ...]
    body_annotation: TypeRef | None  # None: the response has no content
    error_shape: ErrorShape | None = None
    header_names: tuple[str, ...] = ()
    stream: Stream | None = None  # a streaming response: its body is an async iterator of items

    @property
    def fixed_status(self) -> int | None:
        return int(self.status) if self.status.isdigit() else None

    @property
    def status_range(self) -> tuple[int, int]:
        """The statuses this response may carry: a single one, a class like 4XX, or any."""
        if self.status.isdigit():
            return int(self.status), int(self.status)
        if self.status[0].isdigit():
            low = int(self.status[0]) * 100
            return low, low + 99
        return 100, 599


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    name: str
    kind: Literal["bearer", "basic", "apiKey", "unsupported"]
    location: ParameterLocation | None = None  # for apiKey
    wire_name: str | None = None  # header, query or cookie name for apiKey


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str  # as in the spec
    method_name: str  # snake_case, unique
    class_prefix: str  # PascalCase, unique
    method: str  # upper case
    path: str
    summary: str
    description: str
    parameters: tuple[Parameter, ...]
    body: RequestBody | None
    responses: tuple[Response, ...]
    # Alternatives (OR) of requirements (AND of scheme names); () = no security, ((),) = optional.
    security: tuple[tuple[str, ...], ...]
    # The alias of the union of `responses`: `{class_prefix}Response`, or `{class_prefix}Result`
    # when a model already has that name (parse.py settles every generated name).
    union_name: str = ""

    @property
    def path_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "path")


@dataclass(frozen=True, slots=True)
class Api:
    title: str
    version: str
    interface_name: str
    operations: tuple[Operation, ...]
    security_schemes: tuple[SecurityScheme, ...]
    model_names: tuple[str, ...] = field(default=())
    # The discriminated unions the types name, each defined once in responses.py.
    discriminated: tuple[Discriminated, ...] = ()

    @property
    def paths(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Each path with its declared methods, sorted: what the 405 handler needs."""
        by_path: dict[str, set[str]] = {}
        for op in self.operations:
            by_path.setdefault(op.path, set()).add(op.method)
        return tuple((path, tuple(sorted(methods))) for path, methods in sorted(by_path.items()))
