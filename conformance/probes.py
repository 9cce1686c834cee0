"""Our own requests on top of Schemathesis': auth probes and undeclared-method probes.

Each probe replays a request the engine already sent and the server accepted (preferably a 2xx
reached with pinned values), changing only the credentials or the method. The responses go through
the same registered checks as every engine response.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from .bounded_http import Limits, bounded_session
from .checks import CHECKS, declared_methods
from .credentials import auth_probes, security_of
from .schemathesis_api import (
    Failure,
    Response,
    check_context,
    is_negative,
    response_from_requests,
)

if TYPE_CHECKING:
    from .schemathesis_api import Case, Request

# Undeclared methods we try on every declared path (HEAD and OPTIONS are the framework's).
PROBE_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH")
BODYLESS_METHODS = frozenset({"GET", "DELETE"})


@dataclass(frozen=True, slots=True)
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None

    @classmethod
    def from_recorded(cls, request: Request) -> SentRequest:
        headers = {name: values[0] for name, values in request.headers.items() if values}
        return cls(request.method.upper(), request.uri, headers, request.body)

    def with_changes(
        self,
        *,
        method: str | None = None,
        set_headers: Mapping[str, str] | None = None,
        remove: tuple[str, ...] = (),
        drop_body: bool = False,
    ) -> SentRequest:
        dropped = {h.lower() for h in remove}
        if drop_body:
            dropped |= {"content-type", "content-length"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
        headers.pop("Content-Length", None)
        headers.update(set_headers or {})
        body = None if drop_body else self.body
        return SentRequest((method or self.method).upper(), self.url, headers, body)


@dataclass(slots=True)
class Candidate:
    """The best request seen for an operation to base probes on; a lower rank is better."""

    case: Case[Any]
    request: SentRequest
    rank: tuple[int, int]


def candidate_rank(case: Case[Any], status: int, authenticated: bool) -> tuple[int, int] | None:
    if is_negative(case):
        return None
    if 200 <= status < 300:
        outcome = 0
    elif status < 500 and status not in (400, 401, 403, 422):
        outcome = 1
    else:
        outcome = 2
    return (0 if authenticated else 1, outcome)


@dataclass(slots=True)
class ProbeOutcome:
    kind: str
    case: Case[Any]
    request: SentRequest
    response: Response | None
    failures: list[tuple[str, Failure]] = field(default_factory=list)
    error: BaseException | None = None


def plan(
    document: Mapping[str, Any], candidates: Mapping[str, Candidate], token: str | None
) -> list[tuple[str, Candidate, SentRequest]]:
    """Every probe to send, in a fixed order: auth probes per operation, then methods per path."""
    planned: list[tuple[str, Candidate, SentRequest]] = []
    for label in sorted(candidates):
        candidate = candidates[label]
        operation = candidate.case.operation
        security = security_of(document, operation.definition.raw)
        for probe in auth_probes(security, token):
            changed = candidate.request.with_changes(set_headers=probe.headers, remove=probe.remove)
            planned.append((f"auth: {probe.kind}", candidate, changed))
    by_path: dict[str, Candidate] = {}
    for label in sorted(candidates):
        candidate = candidates[label]
        best = by_path.get(candidate.case.operation.path)
        if best is None or candidate.rank < best.rank:
            by_path[candidate.case.operation.path] = candidate
    for path in sorted(by_path):
        candidate = by_path[path]
        declared = declared_methods(document, path)
        for method in PROBE_METHODS:
            if method in declared:
                continue
            changed = candidate.request.with_changes(
                method=method, drop_body=method in BODYLESS_METHODS
            )
            planned.append((f"method: {method}", candidate, changed))
    return planned


def send(session: requests.Session, request: SentRequest, timeout: float) -> requests.Response:
    return session.request(
        request.method,
        request.url,
        headers=request.headers,
        data=request.body,
        timeout=timeout,
        allow_redirects=False,
    )


def run(
    planned: list[tuple[str, Candidate, SentRequest]], timeout: float, limits: Limits
) -> Iterator[ProbeOutcome]:
    with bounded_session(limits) as session:
        # Only what the probe sets: no proxies or netrc credentials from the environment.
        session.trust_env = False
        for kind, candidate, request in planned:
            try:
                raw = send(session, request, timeout)
            except requests.RequestException as exc:
                yield ProbeOutcome(kind, candidate.case, request, None, error=exc)
                continue
            response = response_from_requests(raw)
            failures = judge(candidate.case, response)
            yield ProbeOutcome(kind, candidate.case, request, response, failures)


def judge(case: Case[Any], response: Response) -> list[tuple[str, Failure]]:
    """Run every registered contract check on one probe response."""
    ctx = check_context(case.operation)
    found: list[tuple[str, Failure]] = []
    for check in CHECKS:
        try:
            check(ctx, response, case)
        except Failure as failure:
            found.append((check.__name__, failure))
    return found
