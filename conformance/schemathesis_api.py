"""Everything `conformance` takes from Schemathesis, in one module: an upgrade changes this file.

The other modules import Schemathesis' types and helpers from here, never from `schemathesis`
itself. What goes beyond its documented API sits behind the functions below: private attributes,
failure classes and engine errors known only by name, the recorder's layout, generation metadata,
the construction of configs, engines and check contexts. What the other modules still touch is
the surface Schemathesis' own checks use: `case.operation.label`, `response.status_code`, the
fields of engine events and recorded requests, and so on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis import APIOperation, BaseSchema, Case, CheckContext, Response
from schemathesis import check as register_check
from schemathesis.config import ConfigError, SchemathesisConfig
from schemathesis.core import media_types
from schemathesis.core.errors import InvalidSchema, LoaderError
from schemathesis.core.failures import AcceptedNegativeData, Failure, MalformedJson, Severity
from schemathesis.core.jsonschema import get_type, make_validator
from schemathesis.engine import StopReason, events, from_schema
from schemathesis.engine import context as engine_context
from schemathesis.engine.recorder import Interaction, Request, ScenarioRecorder
from schemathesis.generation.meta import REQUEST_SHAPE_PROBES, coverage_scenario
from schemathesis.specs.openapi.checks import negative_data_rejection
from schemathesis.specs.openapi.utils import coerce_wire_string

from .bounded_http import Limits, bounded_session

if TYPE_CHECKING:
    from .options import Options

__all__ = [
    "SERVER_UNAVAILABLE",
    "UNRESPONSIVE_OPERATION",
    "AcceptedNegativeData",
    "BaseSchema",
    "Case",
    "CheckContext",
    "Failure",
    "Interaction",
    "KeyedFailure",
    "MalformedJson",
    "Negation",
    "Operation",
    "Request",
    "Response",
    "SchemaRejected",
    "Severity",
    "StopReason",
    "body_schema",
    "case_for_request",
    "check_context",
    "coerce_wire_string",
    "declared_statuses",
    "events",
    "failure_kind",
    "get_type",
    "is_content_type_failure",
    "is_negative",
    "is_request_shape_probe",
    "load_schema",
    "media_types",
    "negation_of",
    "negative_data_rejection",
    "parameter_keys",
    "proxy_settings",
    "recorded_failures",
    "recorded_requests",
    "register_check",
    "response_from_exchange",
    "response_from_requests",
    "run_engine",
    "schema_accepts",
    "schema_operations",
    "schemathesis_config",
    "unique_key",
]

Operation = APIOperation[Any, Any, Any, Any]

# The engine's non-fatal errors we react to; it names them only by title.
UNRESPONSIVE_OPERATION = "Unresponsive Operation"
SERVER_UNAVAILABLE = "Server Unavailable"

# Response-validation failures about media types, matched by class name: they are
# `declared_content_type`'s business, not `declared_schema`'s.
_CONTENT_TYPE_FAILURES = frozenset(
    {"MissingContentType", "UndefinedContentType", "MalformedMediaType"}
)


# Configuration and engine


def schemathesis_config(
    options: Options,
    headers: Mapping[str, str],
    *,
    checks: Sequence[str],
    free_values: bool = False,
    stateful: bool = True,
) -> dict[str, Any]:
    """Settings for one engine pass; the free-values pass has no pins and no stateful phase."""
    return {
        "seed": options.seed,
        "base-url": options.url,
        "headers": dict(headers),
        "workers": options.workers,
        "request-timeout": options.request_timeout,
        # An event stream the engine reads ends at this many events or the request timeout.
        "max-stream-events": options.stream_max_events,
        "continue-on-failure": True,
        "cache": {"enabled": False},
        "warnings": False,
        "generation": {
            "mode": "all",
            "max-examples": options.max_examples,
            "database": "none",
            "no-shrink": True,
        },
        # Only our checks: each built-in one we rely on is called from inside them.
        "checks": {"enabled": False, **{name: {"enabled": True} for name in checks}},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            # Only the links the contract declares; no inferred ones.
            "stateful": {
                "enabled": stateful and not free_values,
                "inference": {"algorithms": []},
            },
        },
        "parameters": {} if free_values else {p.key: p.value for p in options.pins},
    }


def proxy_settings(
    base_url: str, headers: Mapping[str, str], checks: Sequence[str]
) -> dict[str, Any]:
    """Settings for judging live traffic (`contract proxy`): our checks, nothing generated."""
    return {
        "base-url": base_url,
        "headers": dict(headers),
        "warnings": False,
        "checks": {"enabled": False, **{name: {"enabled": True} for name in checks}},
    }


class SchemaRejected(Exception):
    """Schemathesis cannot use the document or the settings; the message is its first line."""


def load_schema(document: dict[str, Any], settings: dict[str, Any]) -> BaseSchema:
    """The OpenAPI `document` (used as is, not copied) as Schemathesis' schema, with `settings`."""
    try:
        config = SchemathesisConfig.from_dict(settings)
        return schemathesis.openapi.from_dict(document, config=config)
    except (ConfigError, LoaderError, InvalidSchema) as exc:
        text = str(exc).strip()
        raise SchemaRejected(text.splitlines()[0] if text else type(exc).__name__) from None


def run_engine(schema: BaseSchema, limits: Limits) -> Iterator[events.EngineEvent]:
    """Every enabled phase against the schema's base URL, as the engine's events, with every
    request the engine sends bounded by `limits` (bytes per response, time per request)."""
    with _bounded_engine_sessions(limits):
        yield from from_schema(schema).execute()


@contextmanager
def _bounded_engine_sessions(limits: Limits) -> Iterator[None]:
    """The engine builds each worker's session with `engine.context.make_session` (its probes
    too, by that module attribute): while the engine runs, that function mounts our adapter."""
    original = engine_context.make_session

    def make_session(config: Any, *, operation: Any = None) -> requests.Session:
        return bounded_session(limits, original(config, operation=operation))

    engine_context.make_session = make_session
    try:
        yield
    finally:
        engine_context.make_session = original


def schema_operations(schema: BaseSchema) -> Iterator[Operation | Exception]:
    """Each operation in document order, or the error for one Schemathesis cannot read."""
    for item in schema.get_all_operations():
        try:
            # An `Err` has no `ok()`: what gets reported is that AttributeError, not `item.err()`.
            operation = item.ok()  # type: ignore[union-attr]
        except Exception as exc:
            yield exc
            continue
        yield operation


def parameter_keys(operation: Operation) -> set[tuple[str, str]]:
    """(location, name) of every parameter the operation declares."""
    return {(str(p.location.value), p.name) for p in operation.iter_parameters()}


def declared_statuses(operation: Operation) -> tuple[str, ...]:
    """The operation's response keys as declared: `200`, `4XX`, `default`."""
    return tuple(operation.responses.status_codes)


def recorded_requests(recorder: ScenarioRecorder) -> Iterator[tuple[Case[Any], Interaction]]:
    """Each request a scenario sent, with the case it was made from."""
    for case_id, interaction in recorder.interactions.items():
        node = recorder.cases.get(case_id)
        if node is not None:
            yield node.value, interaction


def recorded_failures(
    recorder: ScenarioRecorder,
) -> Iterator[tuple[str, Failure, Interaction | None]]:
    """Each failed check of a scenario: its name, the failure, the request that showed it."""
    for case_id, nodes in recorder.checks.items():
        for check in nodes:
            info = check.failure_info
            if info is None:
                continue
            failure = info.failure
            yield check.name, failure, recorder.interactions.get(failure.case_id or case_id)


# Checks outside the engine


def check_context(operation: Operation) -> CheckContext:
    """What a registered check needs to judge a response the engine did not fetch."""
    return CheckContext(
        override=None,
        auth=None,
        headers=None,
        config=operation.schema.config.checks_config_for(operation=operation),
        transport_kwargs=None,
        response_checks=None,
    )


def response_from_requests(raw: requests.Response) -> Response:
    return Response.from_requests(raw, verify=True)


def case_for_request(schema: BaseSchema, method: str, path: str) -> Case[Any] | None:
    """A case of the operation that `method` `path` (a concrete path) reaches.

    A method the path does not declare gets a case of another operation on that path, as the
    undeclared-method probes have; None when no operation of the contract has the path.
    """
    find = getattr(schema, "find_operation_by_path", None)
    if find is None:
        return None
    operation = find(method, path)
    if operation is None:
        for other in _METHODS:
            operation = find(other, path)
            if operation is not None:
                break
    return None if operation is None else operation.Case()


_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def response_from_exchange(
    *,
    method: str,
    url: str,
    request_headers: Sequence[tuple[str, str]],
    request_body: bytes | None,
    status: int,
    response_headers: Sequence[tuple[str, str]],
    content: bytes,
    elapsed: float,
) -> Response:
    """A response seen on the wire (by the proxy), as the checks read one the engine fetched."""
    # The request as it went, not re-prepared: `Request.prepare()` re-parses and re-encodes the
    # URL and headers (a third of the time of judging an exchange) and would add headers the
    # client never sent.
    prepared = requests.PreparedRequest()
    prepared.method = method.upper()
    prepared.url = url
    prepared.headers = CaseInsensitiveDict(dict(request_headers))
    prepared.body = request_body or None
    headers: dict[str, list[str]] = {}
    for name, value in response_headers:
        headers.setdefault(name.lower(), []).append(value)
    return Response(
        status_code=status,
        headers=headers,
        content=content,
        request=prepared,
        elapsed=elapsed,
        verify=True,
    )


# Failures


class KeyedFailure(Failure):
    """A failure de-duplicated by its `key`, by the engine and by us alike."""

    __slots__ = ("key",)

    def __init__(
        self, *, operation: str, message: str, key: str, severity: Severity, title: str | None
    ) -> None:
        super().__init__(operation=operation, title=title, message=message, severity=severity)
        self.key = key

    # The engine compares failures by this private property.
    @property
    def _unique_key(self) -> str:
        return self.key


def unique_key(failure: Failure) -> str:
    """What Schemathesis de-duplicates the failure by (for ours: its `key`)."""
    return str(failure._unique_key)


def failure_kind(failure: Failure) -> str:
    """The failure's class name; it is part of stored finding keys."""
    return type(failure).__name__


def is_content_type_failure(failure: Failure) -> bool:
    return failure_kind(failure) in _CONTENT_TYPE_FAILURES


# What a generated case is


@dataclass(frozen=True, slots=True)
class Negation:
    """What a negative case made invalid, as Schemathesis' generation metadata records it."""

    target: str  # `LOCATION:NAME` of the parameter the phase negated, `request:` for none
    parameters: frozenset[str]  # every parameter it names, the mutated ones included
    locations: frozenset[str]  # the components generated invalid: `query`, `header`, `body`...


def is_negative(case: Case[Any]) -> bool:
    """Whether Schemathesis generated the case to violate the schema."""
    return case.meta is not None and case.meta.generation.mode.is_negative


def negation_of(case: Case[Any]) -> Negation | None:
    """What the case made invalid; None for a positive case."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return None
    data = meta.phase.data
    names = {m.parameter for m in data.mutations if m.parameter}
    if data.parameter:
        names.add(data.parameter)
    locations = {
        str(getattr(location, "value", location))
        for location, info in meta.components.items()
        if info.mode.is_negative
    }
    # The location formats as `ParameterLocation.QUERY`; kept, for it is part of finding keys.
    target = f"{data.parameter_location or 'request'}:{data.parameter or ''}"
    return Negation(target, frozenset(names), frozenset(locations))


def is_request_shape_probe(case: Case[Any]) -> bool:
    """Whether the coverage phase sent the case to try an unsupported method or content type."""
    return coverage_scenario(case) in REQUEST_SHAPE_PROBES


def body_schema(case: Case[Any], media_type: str) -> object:
    """The JSON schema Schemathesis holds for a request body of `media_type`, if any."""
    return getattr(case.operation.get_body_for_media_type(media_type), "optimized_schema", None)


def schema_accepts(case: Case[Any], schema: dict[str, Any], instance: object) -> bool:
    """Whether `instance` is valid against `schema`, in the JSON Schema dialect of the spec."""
    validator_class = case.operation.schema.adapter.jsonschema_validator_cls
    return bool(make_validator(schema, validator_class).is_valid(instance))
