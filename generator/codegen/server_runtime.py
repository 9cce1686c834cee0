"""What every generated server promises, whatever the spec: security, error bodies, rendering.

Nothing in this module depends on the spec; `app.py` binds it to the declared operations.
`contract generate` copies this file byte for byte into every package as `runtime.py`, and a
package never imports the toolkit: it imports only the standard library, FastAPI, Starlette and
pydantic.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from types import UnionType
from typing import (
    Annotated,
    Any,
    ClassVar,
    Literal,
    TypeVar,
    Union,
    cast,
    get_args,
    get_origin,
    overload,
)
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.sse import format_sse_event
from pydantic import BaseModel, ConfigDict, Discriminator, Field, TypeAdapter, ValidationError
from starlette.datastructures import Headers
from starlette.datastructures import UploadFile as UploadFile  # api.py types file parts with it
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

logger = logging.getLogger("contract.server")

Verifier = Callable[[str], bool | Awaitable[bool]]
Endpoint = Callable[..., Awaitable[Response]]
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class ContractResponse(BaseModel):
    """Base of every declared (operation, status) response class in `responses.py`."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    status_range: ClassVar[tuple[int, int]] = (100, 599)
    media_types: ClassVar[tuple[str, ...]] = ()
    # (message field, code field) when the app may fill this body itself, else None.
    error_fields: ClassVar[tuple[str, str | None] | None] = None

    headers: dict[str, str] = {}
    content_type: str | None = None

    @property
    def status(self) -> int:
        low, high = self.status_range
        return low if low == high else self._status_value()

    def _status_value(self) -> int:
        value = getattr(self, "status_code", None)
        if not isinstance(value, int):
            raise TypeError(f"{type(self).__name__} needs a status_code")
        return value

    @classmethod
    def body_adapter(cls) -> TypeAdapter[Any] | None:
        field = cls.model_fields.get("body")
        if field is None:
            return None
        adapter: TypeAdapter[Any] | None = cls.__dict__.get("_adapter")
        if adapter is None:
            adapter = TypeAdapter(cast(Any, field.annotation))
            setattr(cls, "_adapter", adapter)  # noqa: B010 - a per-class cache, not a field
        return adapter

    def render(self) -> Response:
        status = self.status
        low, high = self.status_range
        if not low <= status <= high:
            raise UndeclaredResponse(f"status {status} is outside {low}-{high}")
        media_type = self.content_type or (self.media_types[0] if self.media_types else None)
        if media_type is not None and media_type not in self.media_types:
            raise UndeclaredResponse(f"content type {media_type!r} is not declared")
        adapter = self.body_adapter()
        if adapter is None or media_type is None:
            return Response(status_code=status, headers=self.headers)
        body = getattr(self, "body")  # noqa: B009 - declared by the subclass
        if isinstance(body, bytes):
            content = body
        elif isinstance(body, str) and not _is_json(media_type):
            content = body.encode("utf-8")
        else:
            content = adapter.dump_json(body, by_alias=True, exclude_unset=True)
        return Response(content, status_code=status, headers=self.headers, media_type=media_type)


def discriminated_by(property_name: str, classes: Mapping[str, str]) -> Discriminator:
    """OpenAPI's `discriminator` for a union of `Tag`ged models: `classes` maps each value of
    `property_name` to the tag (class name) of its member.

    The member models may type the property as a plain `str`, which pydantic's own
    `Field(discriminator=...)` refuses: the value is looked up here instead. A model instance
    is its own member; a value that names no member fails validation with the values it may be.
    """
    tags = frozenset(classes.values())

    def tag_of(value: Any) -> str | None:
        if isinstance(value, BaseModel):
            name = type(value).__name__
            return name if name in tags else None
        found = value.get(property_name) if isinstance(value, Mapping) else None
        return classes.get(found) if isinstance(found, str) else None

    expected = ", ".join(repr(value) for value in classes)
    return Discriminator(
        tag_of,
        custom_error_type="discriminator",
        custom_error_message=f"`{property_name}` must be one of {expected}",
    )


class UndeclaredResponse(Exception):
    """An implementation returned something the contract does not declare."""


class RequestRejected(Exception):
    """A request the app answers itself with a declared error body, preferring these statuses."""

    def __init__(self, statuses: tuple[int, ...], detail: str, code: str) -> None:
        super().__init__(detail)
        self.statuses = statuses
        self.detail = detail
        self.code = code


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    kind: Literal["bearer", "basic", "apiKey", "unsupported"]
    location: Literal["header", "query", "cookie"] | None = None
    name: str | None = None

    def credential(self, request: Request) -> str | None:
        if self.kind in ("bearer", "basic"):
            scheme, _, value = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != self.kind or not value.strip():
                return None
            return value.strip()
        if self.kind == "apiKey" and self.name:
            if self.location == "header":
                return request.headers.get(self.name)
            if self.location == "query":
                return request.query_params.get(self.name)
            if self.location == "cookie":
                return request.cookies.get(self.name)
        return None

    @property
    def challenge(self) -> str | None:
        return {"bearer": "Bearer", "basic": 'Basic realm="api"'}.get(self.kind)


def constant_time_equals(given: str, expected: str) -> bool:
    """Compare digests so that neither the content nor the length of the secret leaks by timing."""
    return hmac.compare_digest(
        hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest(),
        hashlib.sha256(expected.encode("utf-8", "surrogatepass")).digest(),
    )


class Guard:
    """Checks an operation's security requirements: alternatives (OR) of schemes (AND)."""

    def __init__(self, schemes: Mapping[str, SecurityScheme], verifiers: Mapping[str, Verifier]):
        self.schemes = schemes
        self.verifiers = verifiers

    async def allows(self, request: Request, requirements: tuple[tuple[str, ...], ...]) -> bool:
        if not requirements:
            return True
        for requirement in requirements:
            if all([await self._satisfied(request, name) for name in requirement]):
                return True
        return False

    async def _satisfied(self, request: Request, scheme_name: str) -> bool:
        scheme = self.schemes.get(scheme_name)
        verifier = self.verifiers.get(scheme_name)
        if scheme is None or verifier is None:
            return False  # fail closed: a scheme nobody can verify admits nobody
        credential = scheme.credential(request)
        if credential is None:
            return False
        verdict = verifier(credential)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        return verdict is True

    def challenges(self, requirements: tuple[tuple[str, ...], ...]) -> str | None:
        names = sorted({name for requirement in requirements for name in requirement})
        found = [self.schemes[n].challenge for n in names if n in self.schemes]
        values = sorted({c for c in found if c})
        return ", ".join(values) or None


def build_verifiers(
    schemes: Mapping[str, SecurityScheme],
    token: str | None,
    verify_token: Verifier | None,
    verifiers: Mapping[str, Verifier] | None,
) -> dict[str, Verifier]:
    """Explicit per-scheme verifiers win; bearer schemes use `verify_token`, else `token`."""
    result: dict[str, Verifier] = dict(verifiers or {})
    for name, scheme in schemes.items():
        if name in result or scheme.kind != "bearer":
            continue
        if verify_token is not None:
            result[name] = verify_token
        elif token:
            result[name] = token_verifier(token)
    return result


def token_verifier(expected: str) -> Verifier:
    def verify(given: str) -> bool:
        return constant_time_equals(given, expected)

    return verify


@dataclass(frozen=True, slots=True)
class OperationContract:
    """One declared operation: what it may answer and who may call it."""

    operation_id: str
    method: str
    path: str  # as the contract spells it, for the log lines that name the operation
    responses: tuple[type[ContractResponse], ...]
    security: tuple[tuple[str, ...], ...] = ()

    @property
    def label(self) -> str:
        return f"{self.operation_id} ({self.method} {self.path})"

    def render(self, result: object) -> Response:
        if not isinstance(result, self.responses):
            logger.error(
                "%s returned %s, which the contract does not declare; answering 500",
                self.label,
                type(result).__name__,
            )
            return self.error((500,), "Internal server error", "INTERNAL_SERVER_ERROR")
        try:
            return result.render()
        except (UndeclaredResponse, ValidationError, TypeError, ValueError) as exc:
            logger.error("%s returned an undeclared response: %s", self.label, exc)
            return self.error((500,), "Internal server error", "INTERNAL_SERVER_ERROR")

    def error(
        self,
        statuses: tuple[int, ...],
        detail: str,
        code: str,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """The declared error response for the first of `statuses` the operation declares."""
        for status in statuses:
            response_class = self._declared(status)
            if response_class is not None:
                try:
                    return _error_instance(response_class, status, detail, code, headers).render()
                except (ValidationError, UndeclaredResponse, TypeError, ValueError):
                    logger.exception("cannot build the declared %s body", status)
        return plain_error(statuses[0], detail, code, headers)

    def _declared(self, status: int) -> type[ContractResponse] | None:
        exact = [r for r in self.responses if r.status_range == (status, status)]
        ranged = [r for r in self.responses if r.status_range[0] <= status <= r.status_range[1]]
        ranged.sort(key=lambda r: r.status_range[1] - r.status_range[0])
        matches = exact or ranged
        return matches[0] if matches else None

    def not_implemented(self) -> Response:
        return plain_error(
            501, f"operation {self.operation_id!r} is not implemented", "NOT_IMPLEMENTED"
        )


def _error_instance(
    response_class: type[ContractResponse],
    status: int,
    detail: str,
    code: str,
    headers: Mapping[str, str] | None,
) -> ContractResponse:
    values: dict[str, Any] = {"headers": dict(headers or {})}
    low, high = response_class.status_range
    if low != high:
        values["status_code"] = status
    if response_class.body_adapter() is not None:
        fields = response_class.error_fields or ("detail", "error_code")
        message_field, code_field = fields
        body: dict[str, Any] = {message_field: detail}
        if code_field:
            body[code_field] = code
        values["body"] = body
    return response_class.model_validate(values)


def plain_error(
    status: int, detail: str, code: str, headers: Mapping[str, str] | None = None
) -> Response:
    return JSONResponse({"detail": detail, "error_code": code}, status, headers=dict(headers or {}))


def describe_validation_errors(errors: Any) -> str:
    """One readable line from pydantic/FastAPI errors: `query.limit: Input should be ...`."""
    parts = []
    for error in list(errors)[:10]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "request"
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _is_json(media_type: str) -> bool:
    base = media_type.split(";")[0].strip().lower()
    return base == "application/json" or base.endswith("+json") or base == "*/*"


async def _read_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise RequestRejected((413, 400, 422), f"body larger than {max_bytes} bytes", "TOO_LARGE")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise RequestRejected(
                (413, 400, 422), f"body larger than {max_bytes} bytes", "TOO_LARGE"
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_body(
    request: Request, adapter: TypeAdapter[Any], *, required: bool, max_bytes: int
) -> Any:
    """The body validated strictly (no `false` for an integer); declared 4xx bodies otherwise."""
    raw = await _read_declared_body(request, _is_json, required=required, max_bytes=max_bytes)
    if raw is None:
        return None
    try:
        return adapter.validate_json(raw, strict=True)
    except ValidationError as exc:
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            raise RequestRejected((400, 422), "body: malformed JSON", "MALFORMED_JSON") from None
        raise _invalid(exc) from None


async def read_form_body(
    request: Request, adapter: TypeAdapter[Any], *, required: bool, max_bytes: int
) -> Any:
    """An application/x-www-form-urlencoded body, validated against its declared schema."""
    raw = await _read_declared_body(request, _is_form, required=required, max_bytes=max_bytes)
    if raw is None:
        return None
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise RequestRejected((400, 422), "body: not UTF-8", "MALFORMED_BODY") from None
    fields: dict[str, Any] = {}
    for key, value in pairs:
        fields.setdefault(key, value)
    try:
        return adapter.validate_python(fields)
    except ValidationError as exc:
        raise _invalid(exc) from None


async def _read_declared_body(
    request: Request, accepts: Callable[[str], bool], *, required: bool, max_bytes: int
) -> bytes | None:
    """The raw body, or None when it is absent and optional; a declared 4xx otherwise."""
    raw = await _read_body(request, max_bytes)
    if not raw:
        if required:
            raise RequestRejected(
                (422, 400), "body: a request body is required", "VALIDATION_ERROR"
            )
        return None
    content_type = request.headers.get("content-type", "")
    if content_type and not accepts(content_type):
        raise RequestRejected(
            (415, 400, 422),
            f"content type {content_type!r} is not accepted",
            "UNSUPPORTED_MEDIA_TYPE",
        )
    return raw


def _is_form(media_type: str) -> bool:
    return media_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"


def _invalid(exc: ValidationError) -> RequestRejected:
    return RequestRejected((422, 400), describe_validation_errors(exc.errors()), "VALIDATION_ERROR")


# A required body is never None: the overloads let a required `bytes`/`str` parameter take it.
@overload
async def read_text_body(request: Request, *, required: Literal[True], max_bytes: int) -> str: ...
@overload
async def read_text_body(request: Request, *, required: bool, max_bytes: int) -> str | None: ...
async def read_text_body(request: Request, *, required: bool, max_bytes: int) -> str | None:
    raw = await read_binary_body(request, required=required, max_bytes=max_bytes)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRejected((400, 422), "body: not UTF-8", "MALFORMED_BODY") from None


@overload
async def read_binary_body(
    request: Request, *, required: Literal[True], max_bytes: int
) -> bytes: ...
@overload
async def read_binary_body(request: Request, *, required: bool, max_bytes: int) -> bytes | None: ...
async def read_binary_body(request: Request, *, required: bool, max_bytes: int) -> bytes | None:
    raw = await _read_body(request, max_bytes)
    if not raw:
        if required:
            raise RequestRejected(
                (422, 400), "body: a request body is required", "VALIDATION_ERROR"
            )
        return None
    return raw


class MultipartForm(BaseModel):
    """Base of the `multipart/form-data` bodies of `api.py`: text fields and uploaded files
    (`UploadFile`, or a list of them), each field under its wire name when that differs."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, populate_by_name=True)


Form = TypeVar("Form", bound=MultipartForm)
MAX_FORM_PARTS = 1000  # fields plus files in one multipart body


@overload
async def read_multipart_body(
    request: Request, form: type[Form], *, required: Literal[True], max_bytes: int
) -> Form: ...
@overload
async def read_multipart_body(
    request: Request, form: type[Form], *, required: bool, max_bytes: int
) -> Form | None: ...
async def read_multipart_body(
    request: Request, form: type[Form], *, required: bool, max_bytes: int
) -> Form | None:
    """A `multipart/form-data` body (at most `max_bytes`, read whole first) as its form class.

    Parts are parsed by Starlette's parser (python-multipart); a field typed as a list takes
    every part of its name, any other field the first one. A file part arrives as `UploadFile`.
    """
    raw = await _read_declared_body(request, _is_multipart, required=required, max_bytes=max_bytes)
    if raw is None:
        return None

    async def once() -> AsyncGenerator[bytes, None]:
        yield raw

    parser = MultiPartParser(
        Headers(scope=request.scope),
        once(),
        max_files=MAX_FORM_PARTS,
        max_fields=MAX_FORM_PARTS,
        max_part_size=max_bytes,
    )
    try:
        parts = await parser.parse()
    except (MultiPartException, ValueError, UnicodeDecodeError):
        raise RequestRejected((400, 422), "body: malformed multipart", "MALFORMED_BODY") from None
    values: dict[str, Any] = {}
    for name, field in form.model_fields.items():
        wire = field.alias or name
        found = parts.getlist(wire)
        if found:
            values[wire] = found if _is_list_type(field.annotation) else found[0]
    try:
        return form.model_validate(values)
    except ValidationError as exc:
        raise _invalid(exc) from None


def _is_multipart(media_type: str) -> bool:
    return media_type.split(";")[0].strip().lower() == "multipart/form-data"


def _is_list_type(annotation: Any) -> bool:
    """`list[X]`, `list[X] | None`, `Annotated[list[X] | None, ...]`."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        return any(_is_list_type(member) for member in get_args(annotation))
    return get_origin(annotation) is list


class ContractRoute(APIRoute):
    """A FastAPI route that enforces security and answers every failure with a declared body."""

    def __init__(
        self,
        path: str,
        endpoint: Endpoint,
        *,
        contract: OperationContract,
        guard: Guard,
        **kwargs: Any,
    ) -> None:
        self.contract = contract
        self.guard = guard
        super().__init__(path, endpoint, methods=[contract.method], **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()
        contract, guard = self.contract, self.guard

        async def handle(request: Request) -> Response:
            if not await guard.allows(request, contract.security):
                challenge = guard.challenges(contract.security)
                headers = {"WWW-Authenticate": challenge} if challenge else None
                return contract.error((401,), "Not authenticated", "UNAUTHENTICATED", headers)
            try:
                return await inner(request)
            except RequestValidationError as exc:
                detail = describe_validation_errors(exc.errors())
                return contract.error((422, 400), detail, "VALIDATION_ERROR")
            except RequestRejected as exc:
                return contract.error(exc.statuses, exc.detail, exc.code)
            except Exception:
                logger.exception("unhandled exception in %s", contract.operation_id)
                return contract.error((500,), "Internal server error", "INTERNAL_SERVER_ERROR")

        return handle


def add_operation(
    app: FastAPI, route_path: str, endpoint: Endpoint, contract: OperationContract, guard: Guard
) -> None:
    app.router.routes.append(
        ContractRoute(
            route_path,
            endpoint,
            contract=contract,
            guard=guard,
            operation_id=contract.operation_id,
            response_class=Response,
        )
    )


def add_method_not_allowed(app: FastAPI, route_path: str, allowed: tuple[str, ...]) -> None:
    """Every other method on a declared path: 405 naming all the declared ones in `Allow`."""
    allow = ", ".join(allowed)

    async def method_not_allowed(request: Request) -> Response:
        return plain_error(405, "Method Not Allowed", "METHOD_NOT_ALLOWED", {"Allow": allow})

    app.router.routes.append(
        _AnyMethodRoute(route_path, method_not_allowed, include_in_schema=False)
    )


class _AnyMethodRoute(Route):
    """A route for every method the routes before it on its path do not take: QUERY or an
    invented method too, where a method list would leave Starlette's own 405 to name the
    methods of one route only."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, endpoint, **options)
        self.methods = None  # Starlette: no method list, no method check (it defaults to GET)


def require_operations(impl: object, method_names: tuple[str, ...]) -> None:
    """Fail at start, not with a 500 at request time, when the implementation lacks operations."""
    if impl is None:
        return
    missing = sorted(
        name
        for name in method_names
        if not inspect.iscoroutinefunction(getattr(impl, name, None))
        or getattr(getattr(impl, name), "__isabstractmethod__", False)
    )
    if missing:
        raise TypeError(f"{type(impl).__name__} does not implement: {', '.join(missing)}")


def build_app(title: str, version: str, document: dict[str, Any]) -> FastAPI:
    """The bare app: JSON errors everywhere, no internals leaked, the contract as openapi.json."""
    app = FastAPI(title=title or "API", version=version or "0", redoc_url=None)

    def contract_document() -> dict[str, Any]:
        return document

    app.openapi = contract_document  # type: ignore[method-assign]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return plain_error(exc.status_code, str(exc.detail), code, exc.headers)

    async def server_error(request: Request, exc: Exception) -> Response:
        logger.error("unhandled exception outside any operation", exc_info=exc)
        return plain_error(500, "Internal server error", "INTERNAL_SERVER_ERROR")

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, server_error)
    return app


# -- streams -----------------------------------------------------------------------------------
#
# A streaming response's body is an async iterator of typed items. Each item is validated against
# the contract before it is sent (an item that fails ends the stream, is logged, and is never
# sent); each is sent as its own ASGI message (flushed at once; the server's flow control makes
# a slow client hold the implementation back: nothing is queued); a client that disconnects
# closes the implementation's iterator, so its `finally` blocks run.

DEFAULT_KEEPALIVE_SECONDS = 15.0
KEEPALIVE_COMMENT = b": keep-alive\n\n"
Framing = Literal["sse", "jsonl", "json-seq"]


def _single_line(value: str | None) -> str | None:
    if value is not None and ("\r" in value or "\n" in value or "\0" in value):
        raise ValueError("must be a single line without NUL characters")
    return value


class SseItem(BaseModel):
    """One server-sent event: its `event` name, `data` (declared by each subclass), `id`, `retry`.

    A subclass per event the contract names fixes `event` to that name and `data` to its type.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    # The event names the contract allows for this class; None: any name.
    event_names: ClassVar[tuple[str, ...] | None] = None
    # Whether `data` is sent as JSON (contentMediaType application/json) or as text.
    data_is_json: ClassVar[bool] = True

    event: str | None = None  # single lines: checked when the event is sent
    id: str | None = None
    retry: Annotated[int | None, Field(ge=0)] = None

    @classmethod
    def data_adapter(cls) -> TypeAdapter[Any]:
        adapter: TypeAdapter[Any] | None = cls.__dict__.get("_data_adapter")
        if adapter is None:
            field = cls.model_fields.get("data")
            adapter = TypeAdapter(cast(Any, field.annotation if field else str))
            setattr(cls, "_data_adapter", adapter)  # noqa: B010 - a per-class cache
        return adapter


class InvalidItem(ValueError):
    """An item the contract does not allow in this stream."""


@dataclass(frozen=True, slots=True)
class _SsePlan:
    """How one SSE item class is checked and encoded, worked out once per class."""

    names: tuple[str, ...] | None
    dump: Callable[..., bytes]
    validate: Callable[[bytes], Any] | None  # None: the data is text
    # `event: NAME\ndata: ` per allowed name, checked single-line once, here.
    prefixes: dict[str | None, bytes]

    @classmethod
    def of(cls, item_class: type[SseItem]) -> _SsePlan:
        adapter = item_class.data_adapter()
        validate = adapter.validator.validate_json if item_class.data_is_json else None
        prefixes: dict[str | None, bytes] = {None: b"data: "}
        for name in item_class.event_names or ():
            _single_line(name)
            prefixes[name] = b"event: " + name.encode("utf-8") + b"\ndata: "
        return cls(item_class.event_names, adapter.serializer.to_json, validate, prefixes)


# (response class, item class) -> its plan; the keys are generated classes, so it stays small.
_SSE_PLANS: dict[tuple[type[Any], type[Any]], _SsePlan] = {}


class StreamResponse(ContractResponse):
    """Base of every streaming (operation, status) class: `items` is an async iterator."""

    framing: ClassVar[Framing] = "sse"
    # Seconds without an event before a keep-alive comment is sent (SSE only); None: never.
    keepalive_seconds: float | None = DEFAULT_KEEPALIVE_SECONDS

    @classmethod
    def item_types(cls) -> tuple[Any, ...]:
        """The item types `items` declares: the members of `AsyncIterator[A | B]`."""
        found: tuple[Any, ...] | None = cls.__dict__.get("_item_types")
        if found is None:
            field = cls.model_fields.get("items")
            (item,) = get_args(field.annotation) if field else (Any,)
            found = get_args(item) if get_origin(item) in (Union, UnionType) else (item,)
            setattr(cls, "_item_types", found)  # noqa: B010 - a per-class cache
        return found

    @classmethod
    def item_adapter(cls) -> TypeAdapter[Any]:
        adapter: TypeAdapter[Any] | None = cls.__dict__.get("_item_adapter")
        if adapter is None:
            types = cls.item_types()
            adapter = TypeAdapter(cast(Any, Union[types] if len(types) > 1 else types[0]))  # noqa: UP007
            setattr(cls, "_item_adapter", adapter)  # noqa: B010 - a per-class cache
        return adapter

    def encode(self, item: Any) -> bytes:
        """The item's bytes on the wire, after checking it against the contract."""
        if self.framing == "sse":
            return self._sse(item)
        adapter = self.item_adapter()
        raw = adapter.dump_json(item, by_alias=True, exclude_unset=True)
        adapter.validate_json(raw)
        return (b"\x1e" + raw + b"\n") if self.framing == "json-seq" else raw + b"\n"

    def _sse(self, item: Any) -> bytes:
        plan = _SSE_PLANS.get((type(self), type(item)))
        if plan is None:
            if not isinstance(item, self.item_types()):
                raise InvalidItem(f"{type(item).__name__} is not an event of this stream")
            plan = _SsePlan.of(type(item))
            _SSE_PLANS[(type(self), type(item))] = plan
        event: str | None = item.event
        if plan.names is not None and event not in plan.names:
            raise InvalidItem(f"event {event!r} is not one of {', '.join(plan.names)}")
        prefix = plan.prefixes.get(event)
        if prefix is None:  # a name the contract leaves open: checked here, every time
            _single_line(event)
        item_id, retry = item.id, item.retry
        if item_id is not None:
            _single_line(item_id)
        data: Any = item.data
        if plan.validate is None:
            if not isinstance(data, str):
                raise InvalidItem(f"the data of {type(item).__name__} must be text")
            return format_sse_event(data_str=data, event=event, id=item_id, retry=retry)
        raw: bytes = plan.dump(data, by_alias=True, exclude_unset=True)
        plan.validate(raw)  # what is sent, not just what was built, matches
        # Compact JSON holds no line break: one `data:` line, framed without re-splitting it.
        if prefix is None:
            prefix = b"event: " + str(event).encode("utf-8") + b"\ndata: "
        if item_id is None and retry is None:
            return prefix + raw + b"\n\n"
        frame = prefix + raw + b"\n"
        if item_id is not None:
            frame += b"id: " + item_id.encode("utf-8") + b"\n"
        if retry is not None:
            frame += b"retry: %d\n" % retry
        return frame + b"\n"

    def render(self) -> Response:
        status = self.status
        low, high = self.status_range
        if not low <= status <= high:
            raise UndeclaredResponse(f"status {status} is outside {low}-{high}")
        media_type = self.content_type or self.media_types[0]
        if media_type not in self.media_types:
            raise UndeclaredResponse(f"content type {media_type!r} is not declared")
        items: AsyncIterator[Any] = getattr(self, "items")  # noqa: B009 - declared by the subclass
        keepalive = self.keepalive_seconds if self.framing == "sse" else None
        encode = self._sse if self.framing == "sse" else self.encode  # one call less per event
        return ItemStream(
            items, encode, status, self.headers, media_type, keepalive, type(self).__name__
        )


class ItemStream(Response):
    """The ASGI response of a stream: one message per item, keep-alives, closed on disconnect."""

    def __init__(
        self,
        items: AsyncIterator[Any],
        encode: Callable[[Any], bytes],
        status_code: int,
        headers: Mapping[str, str],
        media_type: str,
        keepalive_seconds: float | None,
        label: str,
    ) -> None:
        self.items = items
        self.encode = encode
        self.keepalive_seconds = keepalive_seconds
        self.label = label
        self.status_code = status_code
        self.media_type = media_type
        self.background = None
        self.init_headers({"cache-control": "no-cache", "x-accel-buffering": "no", **headers})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        loop = asyncio.get_running_loop()
        last_sent = loop.time()
        # The pump and the keep-alives never send at the same time: each waits for the other.
        pump_sending = False
        comment_sending: asyncio.Future[None] | None = None

        async def pump() -> None:
            nonlocal last_sent, pump_sending
            async for item in self.items:
                try:
                    frame = self.encode(item)
                except (InvalidItem, ValidationError, TypeError, ValueError) as exc:
                    reason = (
                        describe_validation_errors(exc.errors())
                        if isinstance(exc, ValidationError)
                        else str(exc)
                    )
                    logger.error("%s: invalid item, stream ended: %s", self.label, reason)
                    return
                if comment_sending is not None:  # rare: a keep-alive is on the wire
                    await comment_sending
                pump_sending = True
                try:
                    await send({"type": "http.response.body", "body": frame, "more_body": True})
                finally:
                    pump_sending = False
                last_sent = loop.time()

        async def keepalive(interval: float) -> None:
            nonlocal last_sent, comment_sending
            while True:
                delay = last_sent + interval - loop.time()
                if delay > 0 or pump_sending:  # not idle yet, or a slow client holds an event
                    await asyncio.sleep(delay if delay > 0 else interval)
                    continue
                comment_sending = loop.create_future()
                try:
                    body = KEEPALIVE_COMMENT
                    await send({"type": "http.response.body", "body": body, "more_body": True})
                finally:
                    comment_sending.set_result(None)
                    comment_sending = None
                last_sent = loop.time()

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        pumping = asyncio.create_task(pump())
        watching = asyncio.create_task(disconnected())
        tasks = [pumping, watching]
        if self.keepalive_seconds:
            tasks.append(asyncio.create_task(keepalive(self.keepalive_seconds)))
        try:
            await asyncio.wait((pumping, watching), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            close = getattr(self.items, "aclose", None)
            if close is not None:
                await close()  # a generator cut short by the disconnect runs its `finally` here
        failure = outcomes[0]
        if isinstance(failure, Exception):
            logger.error("%s: the stream failed: %r", self.label, failure)
        if watching.cancelled():  # the client is still there: end the body
            await send({"type": "http.response.body", "body": b"", "more_body": False})
