"""One registered Schemathesis check per contract rule.

A check is a plain function `(ctx, response, case)` that returns None or raises one of the failures
in `conformance.failures`. Guards are decorators, as in Schemathesis' own `specs/openapi/checks.py`:

- `on_declared_method`: the response answers a request sent with the operation's own method, not one
  of the undeclared-method probes (Schemathesis' coverage phase sends those too, and a 405 there is
  not the operation's status).
- `skips_request_shape_probes`: the coverage phase's unsupported-method and content-type probes ask
  something outside the contract; only "no 5xx", "no 2xx for an undeclared method" and
  authentication are judged on them.

Importing this module registers the checks; `CHECKS` lists their names in report order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from generator.spec.openapi import HTTP_METHODS

from .credentials import security_of
from .failures import (
    AllowHeaderIncomplete,
    AuthNotEnforced,
    AuthRejectedWrongly,
    InvalidRequestAccepted,
    SchemaMismatch,
    ServerError,
    StatusOnlyCoveredByDefault,
    UndeclaredContentType,
    UndeclaredMethodAccepted,
    UndeclaredStatus,
)
from .schemathesis_api import (
    AcceptedNegativeData,
    Failure,
    MalformedJson,
    body_schema,
    coerce_wire_string,
    declared_statuses,
    failure_kind,
    get_type,
    is_content_type_failure,
    is_request_shape_probe,
    media_types,
    negation_of,
    negative_data_rejection,
    register_check,
    schema_accepts,
    unique_key,
)

if TYPE_CHECKING:
    from .schemathesis_api import Case, CheckContext, Response

Check = Callable[["CheckContext", "Response", "Case[Any]"], bool | None]

# Methods a framework answers for every resource; answering them is not accepting a new operation.
IMPLICIT_METHODS = frozenset({"HEAD", "OPTIONS"})
# Statuses that carry no body, whatever the contract declares.
BODYLESS_STATUSES = frozenset({204, 304})


def on_declared_method(func: Check) -> Check:
    @wraps(func)
    def wrapper(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        if sent_method(response) != case.operation.method.upper():
            return None
        return func(ctx, response, case)

    return wrapper


def skips_request_shape_probes(func: Check) -> Check:
    @wraps(func)
    def wrapper(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        if is_request_shape_probe(case):
            return None
        return func(ctx, response, case)

    return wrapper


@register_check
@on_declared_method
@skips_request_shape_probes
def declared_status(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """The status is one the operation declares (exactly or as a range); `default` is reported."""
    keys = declared_statuses(case.operation)
    status = response.status_code
    match = matching_status_key(status, keys)
    shown = ", ".join(keys)
    if match == "default":
        raise StatusOnlyCoveredByDefault(
            operation=case.operation.label,
            message=f"Received: {status}, covered only by `default`\nDeclared: {shown}",
            key=str(status),
        )
    if match is None:
        raise UndeclaredStatus(
            operation=case.operation.label,
            message=f"Received: {status}\nDeclared: {shown}",
            key=str(status),
        )
    return None


@register_check
@on_declared_method
@skips_request_shape_probes
def declared_content_type(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A response with a declared body carries one of the media types declared for its status."""
    status = response.status_code
    if case.operation.responses.find_by_status_code(status) is None:
        return None  # an undeclared status is `declared_status`'s finding
    if status in BODYLESS_STATUSES or case.operation.method.upper() == "HEAD":
        return None
    declared = list(case.operation.schema.get_content_types(case.operation, response))
    if not declared:
        return None
    received = header(response, "content-type")
    shown = ", ".join(declared)
    if received is None:
        raise UndeclaredContentType(
            operation=case.operation.label,
            message=f"Status {status}: no Content-Type\nDeclared: {shown}",
            key=f"{status}:none",
        )
    if not any(media_type_matches(option, received) for option in declared):
        raise UndeclaredContentType(
            operation=case.operation.label,
            message=f"Status {status}: received {received}\nDeclared: {shown}",
            key=f"{status}:{received.split(';')[0].strip().lower()}",
        )
    return None


@register_check
@on_declared_method
@skips_request_shape_probes
def declared_schema(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """The body matches the schema declared for its status, error statuses included."""
    try:
        case.operation.validate_response(response, case=case)
    except Failure as failure:
        _raise_schema_mismatch(response, case, [failure])
    except BaseExceptionGroup as group:
        found = [e for e in _flatten(group) if isinstance(e, Failure)]
        if not found:
            raise
        _raise_schema_mismatch(response, case, found)
    return None


@register_check
def no_server_error(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """No 5xx of any kind, declared or not."""
    status = response.status_code
    if status < 500:
        return None
    # RFC 9110: 501 is the right answer to a method the server does not recognise.
    if status == 501 and sent_method(response) != case.operation.method.upper():
        return None
    raise ServerError(
        operation=case.operation.label,
        message=f"Received: {status}",
        key=str(status),
    )


@register_check
@on_declared_method
def auth_required(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Without our credentials a secured operation answers its declared 401, never 2xx."""
    operation = case.operation
    security = security_of(operation.schema.raw_schema, operation.definition.raw)
    if not security.required or not security.supported:
        return None
    sent = request_headers(response)
    configured = operation.schema.config.headers_for(operation=operation)
    if security.is_satisfied_by(sent, configured):
        return None
    attempt = security.describe_attempt(sent, configured)
    status = response.status_code
    if 200 <= status < 300:
        raise AuthNotEnforced(
            operation=operation.label,
            message=f"Request with {attempt}: received {status}\nExpected: 401",
            key=attempt,
        )
    if status == 401 or status >= 500 or _invalid_apart_from_credentials(case, security.headers()):
        return None
    raise AuthRejectedWrongly(
        operation=operation.label,
        message=f"Request with {attempt}: received {status}\nExpected: 401",
        key=f"{attempt}:{status}",
    )


@register_check
def undeclared_method(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A method the path does not declare is never answered with 2xx; a 405 names the declared.

    RFC 9110 (15.5.6): a 405 carries `Allow` with the methods the resource supports. Each method
    the contract declares must be in it; methods beyond them are the server's own (a 2xx to one
    is the finding above). Starlette answers the 405 of a path served by several routes with the
    methods of the first route only, so a FastAPI app can fail this without a line of its own.
    """
    method = sent_method(response)
    if method == case.operation.method.upper() or method in IMPLICIT_METHODS:
        return None
    declared = declared_methods(case.operation.schema.raw_schema, case.operation.path)
    if method in declared:
        return None
    if response.status_code == 405:
        allow = header(response, "allow")
        listed = {part.strip().upper() for part in (allow or "").split(",") if part.strip()}
        missing = sorted(declared - listed)
        if missing:
            raise AllowHeaderIncomplete(
                operation=case.operation.label,
                message=f"{method} {case.operation.path}: received 405 with "
                f"{'Allow: ' + allow if allow is not None else 'no Allow header'}\n"
                f"Declared methods: {', '.join(sorted(declared))} (missing: {', '.join(missing)})",
                key="allow" if allow is not None else "no-allow",
            )
        return None
    if not 200 <= response.status_code < 300:
        return None
    raise UndeclaredMethodAccepted(
        operation=case.operation.label,
        message=f"{method} {case.operation.path}: received {response.status_code}\n"
        f"Declared methods: {', '.join(sorted(declared))}",
        key=method,
    )


@register_check
@on_declared_method
def invalid_request_rejected(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A request that violates the schema is never answered with 2xx.

    Schemathesis' `negative_data_rejection` decides whether the request really is invalid as sent
    (its guards drop mutations that serialisation undoes); we only judge 2xx answers. A form body
    counts as valid when its fields read as the declared types the way query parameters do
    (`0`/`yes`/`off` for booleans), which Schemathesis grants parameters but not form fields.
    A request whose only fault is its credentials is left to `auth_required`.
    """
    negation = negation_of(case)
    if negation is None:
        return None
    if not 200 <= response.status_code < 300 or form_body_reads_as_declared(response, case):
        return None
    operation = case.operation
    security = security_of(operation.schema.raw_schema, operation.definition.raw)
    if security.required and not _invalid_apart_from_credentials(case, security.headers()):
        return None  # only the credentials are wrong: that is `auth_required`'s finding
    try:
        negative_data_rejection(ctx, response, case)
    except AcceptedNegativeData as accepted:
        _, _, component = accepted.message.partition("Invalid component: ")
        raise InvalidRequestAccepted(
            operation=case.operation.label,
            message=f"Received: {response.status_code}\nInvalid component: "
            f"{component.strip() or 'unknown'}",
            key=negation.target,
        ) from None
    return None


CHECKS: tuple[Check, ...] = (
    declared_status,
    declared_content_type,
    declared_schema,
    auth_required,
    undeclared_method,
    no_server_error,
    invalid_request_rejected,
)
CHECK_NAMES: tuple[str, ...] = tuple(check.__name__ for check in CHECKS)


def matching_status_key(status: int, keys: tuple[str, ...]) -> str | None:
    """The response key that covers `status`: exact, then a range like `4XX`, then `default`."""
    if str(status) in keys:
        return str(status)
    for key in keys:
        if len(key) == 3 and key[1:].upper() == "XX" and key[0] == str(status)[0]:
            return key
    return "default" if "default" in keys else None


def media_type_matches(declared: str, received: str) -> bool:
    try:
        expected = media_types.parse(declared)
        actual = media_types.parse(received)
    except ValueError:
        return False
    return bool(media_types.matches_parts(expected, actual))


def declared_methods(document: Mapping[str, Any], path: str) -> frozenset[str]:
    paths = document.get("paths")
    item = paths.get(path) if isinstance(paths, dict) else None
    if not isinstance(item, dict):
        return frozenset()
    return frozenset(m.upper() for m in item if m in HTTP_METHODS)


def sent_method(response: Response) -> str:
    return str(response.request.method or "").upper()


def header(response: Response, name: str) -> str | None:
    values = response.headers.get(name.lower())
    return values[0] if values else None


def request_headers(response: Response) -> dict[str, str]:
    return {str(k): str(v) for k, v in response.request.headers.items()}


def form_body_reads_as_declared(response: Response, case: Case[Any]) -> bool:
    """Whether an urlencoded body is valid once each field is read as its declared scalar type."""
    content_type = str(response.request.headers.get("Content-Type") or "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        return False
    raw = response.request.body
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw or "")
    schema = body_schema(case, media_type)
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return False
    properties: dict[str, Any] = schema["properties"]
    fields: dict[str, object] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        prop = properties.get(name)
        types = get_type(prop) if isinstance(prop, dict) else []
        if name in fields or "array" in types or "object" in types:
            return False  # repeated or structured fields: no single reading to judge
        coerced = coerce_wire_string(value, types) if types else None
        fields[name] = value if coerced is None else coerced
    try:
        return schema_accepts(case, schema, fields)
    except Exception:  # a schema the validator cannot read: keep the finding
        return False


def _invalid_apart_from_credentials(case: Case[Any], credential_headers: tuple[str, ...]) -> bool:
    """Whether a negative case is invalid in more than its credentials (so any 4xx may answer)."""
    negation = negation_of(case)
    if negation is None:
        return False
    carriers = {h.lower() for h in credential_headers}
    names = negation.parameters
    only_headers = negation.locations <= {"header"}
    return not (only_headers and names and {n.lower() for n in names} <= carriers)


def _flatten(group: BaseExceptionGroup[Any]) -> list[BaseException]:
    found: list[BaseException] = []
    for exc in group.exceptions:
        found.extend(_flatten(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return found


def _undecodable(message: str) -> str:
    """Schemathesis' "Failed to deserialize…" over a codec error, said as what to fix."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if len(lines) > 1 and "codec can't decode" in lines[1]:
        return (
            f"the body is not valid UTF-8 ({lines[1]}): send text in the charset the "
            "Content-Type declares (UTF-8 for JSON)"
        )
    return message


def _raise_schema_mismatch(response: Response, case: Case[Any], failures: list[Failure]) -> None:
    # Media types are `declared_content_type`'s business; here only the body counts.
    relevant = [f for f in failures if not is_content_type_failure(f)]
    if not relevant:
        return
    first = relevant[0]
    what = "not valid JSON" if isinstance(first, MalformedJson) else _undecodable(first.message)
    more = f"\n(and {len(relevant) - 1} more)" if len(relevant) > 1 else ""
    raise SchemaMismatch(
        operation=case.operation.label,
        message=f"Status {response.status_code}: {what}{more}",
        key=f"{response.status_code}:{failure_kind(first)}:{unique_key(first)}",
    )
