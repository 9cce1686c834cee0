"""The mock's implementation of a generated interface: each operation answers from its plan.

The generated `create_app` does everything the contract promises before an operation is called
(authentication, request validation, 405 with `Allow`); the implementation here only picks the
declared response (`Prefer: code=`, `example=`, else the lowest 2xx) and its body.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any

from generator.spec.streams import is_sequential

from .plan import Body, DeclaredResponse, MediaBody, OperationPlan, Planner
from .prefer import Preferences, parse_prefer
from .streams import MockStreams, StreamKey

NO_PREFERENCES = Preferences()
PREFERENCES: ContextVar[Preferences] = ContextVar("mock_preferences", default=NO_PREFERENCES)
# The media types the request's `Accept` names (parameters dropped, lower case).
ACCEPTED: ContextVar[frozenset[str]] = ContextVar("mock_accepted", default=frozenset())

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


class NoDeclaredResponse(Exception):
    """The operation declares no response the mock can make (the runtime answers 500)."""


class PreferenceReader:
    """ASGI middleware: the request's `Prefer` and `Accept`, parsed, for the operation."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", ())
        values = [v.decode("latin-1") for k, v in headers if k == b"prefer"]
        accepted = frozenset(
            part.split(";")[0].strip().lower()
            for k, v in headers
            if k == b"accept"
            for part in v.decode("latin-1").split(",")
        )
        token = PREFERENCES.set(parse_prefer(values))
        accept_token = ACCEPTED.set(accepted)
        try:
            await self.app(scope, receive, send)
        finally:
            ACCEPTED.reset(accept_token)
            PREFERENCES.reset(token)


class Responder:
    """Chooses the response and body for one call of an operation."""

    def __init__(self, planner: Planner, seed: int, dynamic: bool, streams: MockStreams) -> None:
        self.planner = planner
        self.seed = seed
        self.dynamic = dynamic
        self.streams = streams
        self.calls = itertools.count(1)

    def answer(self, plan: OperationPlan | None, classes: tuple[Any, ...]) -> Any:
        if plan is None:
            raise NoDeclaredResponse("operation not in the document")
        preferences = PREFERENCES.get()
        applied: list[str] = []
        response, status = self._response(plan, preferences, applied)
        media, body = self._body(plan, response, preferences, applied)
        response_class = class_for(classes, status, media.media_type if media else None)
        if response_class is None:
            raise NoDeclaredResponse(f"{plan.label}: no response class for {status}")
        values: dict[str, Any] = {"headers": {}}
        if applied:
            values["headers"]["Preference-Applied"] = ", ".join(applied)
        low, high = response_class.status_range
        if low != high:
            values["status_code"] = status
        if media is not None and media.media_type in response_class.media_types:
            values["content_type"] = media.media_type
        if "body" in response_class.model_fields and body is not None:
            values["body"] = body
        if media is not None and "items" in response_class.model_fields:
            key = StreamKey(plan.method, plan.path, response.key, media.media_type)
            values["items"] = self.streams.items(key, response_class, self._rng(plan, preferences))
        self.streams.called(plan.method, plan.path)
        return response_class.model_construct(**values)

    def _dynamic(self, preferences: Preferences) -> bool:
        return self.dynamic if preferences.dynamic is None else preferences.dynamic

    def _rng(self, plan: OperationPlan, preferences: Preferences) -> random.Random:
        """The seed's data; with --dynamic (or `Prefer: dynamic=true`), fresh data per call."""
        call = next(self.calls) if self._dynamic(preferences) else 0
        return random.Random(f"{self.seed}:{plan.label}:{call}")  # noqa: S311 - mock data

    def _response(
        self, plan: OperationPlan, preferences: Preferences, applied: list[str]
    ) -> tuple[DeclaredResponse, int]:
        if preferences.code is not None:
            chosen = plan.response_for(preferences.code)
            if chosen is not None:
                applied.append(f"code={preferences.code}")
                return chosen, chosen.status_for(preferences.code)
        if preferences.example is not None:
            for candidate in plan.responses:
                if any(preferences.example in media.examples for media in candidate.media):
                    return candidate, candidate.status_for()
        chosen = plan.default_response()
        if chosen is None:
            raise NoDeclaredResponse(f"{plan.label}: no declared response can be made")
        return chosen, chosen.status_for()

    def _body(
        self,
        plan: OperationPlan,
        response: DeclaredResponse,
        preferences: Preferences,
        applied: list[str],
    ) -> tuple[MediaBody | None, Body]:
        if not response.media:
            return None, None
        if preferences.example is not None:
            for media in response.media:
                if preferences.example in media.examples:
                    applied.append(f"example={preferences.example}")
                    return media, media.examples[preferences.example]
        # A stream when the request accepts one (`Accept: text/event-stream`) or nothing else is
        # declared; else a whole body: the JSON alternative of a stream's operation.
        accepted = ACCEPTED.get()
        streams = [
            m
            for m in response.media
            if is_sequential(m.media_type)
            and self.streams.has(StreamKey(plan.method, plan.path, response.key, m.media_type))
        ]
        wanted = [m for m in streams if m.media_type.split(";")[0].strip().lower() in accepted]
        whole = [m for m in response.media if not is_sequential(m.media_type)]
        if wanted or (streams and not whole):
            return (wanted or streams)[0], None
        media = (whole or response.media)[0]
        if self._dynamic(preferences):
            return media, self.planner.generate(media, self._rng(plan, preferences))
        if media.examples:
            return media, next(iter(media.examples.values()))
        return media, media.generated


def class_for(classes: tuple[Any, ...], status: int, media_type: str | None = None) -> Any:
    """The generated response class for `status`: the exact one, else the narrowest range.

    A status with a stream and a whole body has a class for each: the one declaring `media_type`.
    """
    if media_type is not None:
        declaring = [c for c in classes if media_type in c.media_types]
        classes = tuple(declaring) or classes
    exact = [c for c in classes if tuple(c.status_range) == (status, status)]
    if exact:
        return exact[0]
    ranged = [c for c in classes if c.status_range[0] <= status <= c.status_range[1]]
    ranged.sort(key=lambda c: c.status_range[1] - c.status_range[0])
    return ranged[0] if ranged else None


def implementation(
    api_class: type[Any],
    routes: tuple[tuple[str, Any, str, Any], ...],
    plans: Mapping[tuple[str, str], OperationPlan],
    responder: Responder,
) -> Any:
    """An instance of a subclass of `api_class` whose every operation asks `responder`."""
    methods: dict[str, Any] = {}
    for _, contract, method_name, _ in routes:
        plan = plans.get((str(contract.method).upper(), str(contract.path)))
        methods[method_name] = _operation(responder, plan, tuple(contract.responses))
    return type("MockImplementation", (api_class,), methods)()


def _operation(
    responder: Responder, plan: OperationPlan | None, classes: tuple[Any, ...]
) -> Callable[..., Awaitable[Any]]:
    async def operation(self: object, **_: object) -> Any:
        return responder.answer(plan, classes)

    return operation
