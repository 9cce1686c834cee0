"""The outcome of a conformance run as plain data: exchanges, findings, coverage, errors.

Everything that reaches a report passes through a `Redactor` on the way in, so no renderer can leak
the token: the runner builds `Exchange` and `Finding` values only through `Redactor` methods.
"""

from __future__ import annotations

import base64
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from generator.terminal.text import printable

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
        """`value` without the secret, and printable (see `printable`)."""
        for form in self.forms:
            value = value.replace(form, TOKEN_PLACEHOLDER)
        return printable(value)

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
            text = _printable_utf8(self.request_body)
            if text is None:  # binary, or text a terminal should not get raw
                encoded = base64.b64encode(self.request_body).decode("ascii")
                return " ".join(parts) + f" --data-binary @<(echo {encoded} | base64 -d)"
            parts += ["--data-binary", _quote(text)]
        return " ".join(parts)

    def excerpt(self, limit: int = EXCERPT_BYTES) -> str:
        body = self.response_excerpt[:limit]
        text = printable(body.decode("utf-8", errors="replace"))
        more = self.response_size - len(body)
        return text + (f"… ({more} more bytes)" if more > 0 else "")

    def as_json(self) -> dict[str, Any]:
        """Everything `from_json` needs to rebuild it (`contract report merge` does)."""
        return {
            "method": self.method,
            "url": self.url,
            "request_headers": [list(pair) for pair in self.request_headers],
            "request_body_base64": _b64(self.request_body),
            "status": self.status,
            "response_headers": [list(pair) for pair in self.response_headers],
            "response_excerpt_base64": _b64(self.response_excerpt),
            "response_size": self.response_size,
            "elapsed": self.elapsed,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Exchange:
        """Raise KeyError, TypeError or ValueError for data `as_json` did not write."""
        return cls(
            method=str(data["method"]),
            url=str(data["url"]),
            request_headers=tuple((str(k), str(v)) for k, v in data["request_headers"]),
            request_body=_unb64(data["request_body_base64"]),
            status=None if data["status"] is None else int(data["status"]),
            response_headers=tuple((str(k), str(v)) for k, v in data["response_headers"]),
            response_excerpt=_unb64(data["response_excerpt_base64"]) or b"",
            response_size=int(data["response_size"]),
            elapsed=None if data["elapsed"] is None else float(data["elapsed"]),
        )

    def content_type(self) -> str | None:
        for name, value in self.response_headers:
            if name.lower() == "content-type":
                return value
        return None


def requote(words: list[str]) -> str:
    """A command line from its words, quoted as `Exchange.curl` quotes (the token expands)."""
    return " ".join(_quote(word) for word in words)


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes | None:
    return None if text is None else base64.b64decode(str(text), validate=True)


def _printable_utf8(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if printable(text) == text else None


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
    known: bool = False  # the --baseline holds it: reported, but it does not fail the run

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (self.operation, self.check, self.code, self.key)


@dataclass(frozen=True, slots=True)
class Ratio:
    part: int
    whole: int

    @property
    def percent(self) -> float:
        return 100.0 * self.part / self.whole if self.whole else 100.0

    def text(self) -> str:
        return f"{self.part}/{self.whole} ({self.percent:.1f}%)"

    def as_json(self) -> dict[str, Any]:
        return {"count": self.part, "of": self.whole, "percent": round(self.percent, 1)}


@dataclass(frozen=True, slots=True)
class Score:
    """How much of the contract a run showed conformant: declared statuses exercised / declared
    (each operation's declared status keys, `default` aside, that some response answered), and
    operations passing every check / operations (tested, a declared 2xx answered, no finding)."""

    statuses: Ratio  # declared statuses exercised / declared
    operations: Ratio  # operations passing every check / operations

    def text(self) -> str:
        return (
            f"declared statuses exercised {self.statuses.text()} · "
            f"operations passing every check {self.operations.text()}"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "declared_statuses_exercised": self.statuses.as_json(),
            "operations_passing_every_check": self.operations.as_json(),
        }


def score_of(result: RunResult) -> Score:
    declared = exercised = 0
    for row in result.coverage.values():
        keys = [key for key in row.declared if key != "default"]
        declared += len(keys)
        exercised += sum(1 for key in keys if row.seen.get(key))
    failing = {finding.operation for finding in result.findings}
    untested = set(result.untested())
    passing = [label for label in result.coverage if label not in failing | untested]
    return Score(Ratio(exercised, declared), Ratio(len(passing), len(result.coverage)))


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
    shard: str | None = None  # `K/N` when the run checked one shard of the operations
    # CI gates the run did not pass (`--fail-under`): exit 1.
    gate_failures: list[str] = field(default_factory=list)
    # Operation -> 503 answers set aside: what the server cannot serve is not a finding.
    unavailable: dict[str, int] = field(default_factory=dict)

    @property
    def new_findings(self) -> list[Finding]:
        """The findings a `--baseline` does not hold (all of them without one)."""
        return [finding for finding in self.findings if not finding.known]

    @property
    def exit_code(self) -> int:
        if self.blocked:
            return 2
        if self.new_findings or self.gate_failures:
            return 1
        return 2 if self.errors else 0

    @property
    def verdict(self) -> str:
        if self.blocked:
            return "NOT TESTED"
        if self.new_findings:
            return "NOT CONFORMANT"
        if self.gate_failures:
            return "UNDER THE BAR"
        if self.errors:
            return "INCOMPLETE"
        return "NO NEW FINDINGS" if self.findings else "CONFORMANT"

    def score(self) -> Score:
        return score_of(self)

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
