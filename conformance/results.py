"""The outcome of a conformance run as plain data: exchanges, findings, coverage, errors.

Everything that reaches a report passes through a `Redactor` on the way in, so no renderer can leak
the token: the runner builds `Exchange` and `Finding` values only through `Redactor` methods.
"""

from __future__ import annotations

import base64
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

TOKEN_PLACEHOLDER = "${CONTRACT_TOKEN}"  # noqa: S105 - a shell variable name
EXCERPT_BYTES = 600
# Headers every HTTP client adds; they only make a reproduction line longer.
NOISE_HEADERS = frozenset(
    {"user-agent", "accept-encoding", "accept", "connection", "content-length", "host"}
)
ID_HEADER = "x-schemathesis-testcaseid"
UNTESTED_REASON = "it never answered a declared 2xx; only its errors were checked"


class Redactor:
    """Replaces the secret (and the forms it travels in) by a placeholder in every string."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret or None
        forms: list[str] = []
        if self.secret:
            forms.append(self.secret)
            forms.append(quote(self.secret, safe=""))
            for padded in (self.secret, f":{self.secret}"):
                encoded = base64.b64encode(padded.encode("utf-8")).decode("ascii")
                forms.extend({encoded, encoded.rstrip("=")})
        # Longest first so that a form containing another is replaced whole. Encoded forms of a
        # very short secret would match everywhere; the secret itself is always replaced.
        derived = {f for f in forms[1:] if len(f) >= 4}
        self.forms = sorted({*forms[:1], *derived}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for form in self.forms:
            value = value.replace(form, TOKEN_PLACEHOLDER)
        return value

    def data(self, value: bytes) -> bytes:
        for form in self.forms:
            value = value.replace(form.encode("utf-8"), TOKEN_PLACEHOLDER.encode("ascii"))
        return value

    def exchange(
        self,
        *,
        method: str,
        url: str,
        request_headers: Mapping[str, str],
        request_body: bytes | None,
        status: int | None,
        response_headers: Mapping[str, str] | None = None,
        response_body: bytes | None = None,
        elapsed: float | None = None,
    ) -> Exchange:
        headers = tuple(
            (name, self.text(value))
            for name, value in request_headers.items()
            if name.lower() not in NOISE_HEADERS and name.lower() != ID_HEADER
        )
        body = self.data(request_body) if request_body else None
        # Redact the whole body before cutting it: a cut could split the token and hide it.
        excerpt = self.data(response_body or b"")[: EXCERPT_BYTES * 2]
        return Exchange(
            method=method.upper(),
            url=self.text(url),
            request_headers=headers,
            request_body=body,
            status=status,
            response_headers=tuple((k, self.text(v)) for k, v in (response_headers or {}).items()),
            response_excerpt=excerpt,
            response_size=len(response_body or b""),
            elapsed=elapsed,
        )


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request as sent and (an excerpt of) its response, already redacted."""

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes | None
    status: int | None
    response_headers: tuple[tuple[str, str], ...] = ()
    response_excerpt: bytes = b""
    response_size: int = 0
    elapsed: float | None = None

    def curl(self) -> str:
        """A shell line that repeats the request; the token reads from $CONTRACT_TOKEN."""
        parts = ["curl", "-sS", "-i", "-X", self.method, _quote(self.url)]
        for name, value in self.request_headers:
            parts += ["-H", _quote(f"{name}: {value}")]
        if self.request_body is not None:
            try:
                parts += ["--data-binary", _quote(self.request_body.decode("utf-8"))]
            except UnicodeDecodeError:
                encoded = base64.b64encode(self.request_body).decode("ascii")
                return " ".join(parts) + f" --data-binary @<(echo {encoded} | base64 -d)"
        return " ".join(parts)

    def excerpt(self, limit: int = EXCERPT_BYTES) -> str:
        body = self.response_excerpt[:limit]
        text = body.decode("utf-8", errors="replace")
        more = self.response_size - len(body)
        return text + (f"… ({more} more bytes)" if more > 0 else "")

    def content_type(self) -> str | None:
        for name, value in self.response_headers:
            if name.lower() == "content-type":
                return value
        return None


def _quote(value: str) -> str:
    # Double quotes keep ${CONTRACT_TOKEN} expandable; everything else is single-quoted.
    if TOKEN_PLACEHOLDER in value:
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
        escaped = escaped.replace("$", "\\$").replace("\\${CONTRACT_TOKEN}", "${CONTRACT_TOKEN}")
        return f'"{escaped}"'
    return shlex.quote(value)


@dataclass(slots=True)
class Finding:
    """One de-duplicated contract violation: the first exchange that showed it and how often."""

    check: str
    operation: str
    title: str
    message: str
    severity: str
    code: str
    key: str
    phase: str
    exchange: Exchange | None
    occurrences: int = 1

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (self.operation, self.check, self.code, self.key)


SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


@dataclass(slots=True)
class OperationCoverage:
    """How often each declared status (key) was seen for one operation, plus undeclared ones."""

    label: str
    declared: tuple[str, ...]
    seen: dict[str, int] = field(default_factory=dict)
    undeclared: dict[int, int] = field(default_factory=dict)
    requests: int = 0
    # Statuses of the requests that carried our credentials to an operation that requires them.
    authenticated: dict[int, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)

    def record(self, status: int, key: str | None) -> None:
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if key is None or key == "default":
            self.undeclared[status] = self.undeclared.get(status, 0) + 1
        if key is not None:
            self.seen[key] = self.seen.get(key, 0) + 1

    def never_seen(self) -> list[str]:
        return [key for key in self.declared if not self.seen.get(key)]

    @property
    def tested(self) -> bool:
        """A declared 2xx was answered (or, where none is declared, any declared status)."""
        success = [key for key in self.declared if key.upper().startswith("2")]
        return any(self.seen.get(key) for key in success or self.declared if key != "default")


@dataclass(slots=True)
class StreamRow:
    """One stream read of the stream checks: which stream, how it went (already redacted)."""

    operation: str
    status: str
    media_type: str
    kind: str  # `read`, or `link NAME` for an ends-stream link followed
    outcome: str  # e.g. `12 items, ended` or `CancelStreamingRun: passed, ended ... with X`


@dataclass(slots=True)
class RunResult:
    spec: str
    base_url: str
    seed: int
    max_examples: int
    workers: int
    request_timeout: float
    checks: tuple[str, ...]
    phases: list[str] = field(default_factory=list)
    coverage: dict[str, OperationCoverage] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: int = 0
    duration: float = 0.0
    stateful: bool = False
    embedded: bool = False
    command: str = ""
    pins: tuple[str, ...] = ()  # LOCATION.NAME=VALUE, the user's and the server's defaults
    streams: list[StreamRow] = field(default_factory=list)
    # Why nothing this run saw can be trusted (the token refused, a wrong base URL): exit 2.
    blocked: str | None = None

    @property
    def exit_code(self) -> int:
        if self.blocked:
            return 2
        if self.findings:
            return 1
        return 2 if self.errors else 0

    @property
    def verdict(self) -> str:
        if self.blocked:
            return "NOT TESTED"
        if self.findings:
            return "NOT CONFORMANT"
        return "INCOMPLETE" if self.errors else "CONFORMANT"

    def untested(self) -> list[str]:
        """Operations that never answered a declared 2xx: whatever they passed, it was not much."""
        return [label for label, row in self.coverage.items() if not row.tested]

    def sorted_findings(self) -> list[Finding]:
        return sorted(
            self.findings,
            key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.operation, f.check, f.key),
        )

    def findings_by_check(self) -> dict[tuple[str, str], list[Finding]]:
        grouped: dict[tuple[str, str], list[Finding]] = {}
        for finding in self.sorted_findings():
            grouped.setdefault((finding.operation, finding.check), []).append(finding)
        return grouped

    def operations(self) -> Iterable[str]:
        return self.coverage.keys()
