"""How an operation is secured, which headers carry our credentials, and the auth probes.

Only what the contract declares counts (no inference). Supported carriers: HTTP bearer and basic
(`Authorization`) and API keys in a header; other schemes are reported as unsupported and their
operations are not judged on authentication.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from generator.spec.openapi import iter_operations, resolved

AUTHORIZATION = "Authorization"
# A credential no real server issues; deterministic so that a seed reproduces the probes.
WRONG_TOKEN = "contract-probe-not-a-valid-token"  # noqa: S105 - a deliberately wrong one

SchemeKind = Literal["bearer", "basic", "header", "unsupported"]
ProbeKind = Literal["no credentials", "another scheme", "wrong credentials"]


@dataclass(frozen=True, slots=True)
class Scheme:
    name: str
    kind: SchemeKind
    header: str | None  # the header that carries the credential

    def credential(self, token: str) -> str:
        if self.kind == "bearer":
            return f"Bearer {token}"
        if self.kind == "basic":
            return "Basic " + base64.b64encode(token.encode("utf-8")).decode("ascii")
        return token


@dataclass(frozen=True, slots=True)
class Security:
    """The security of one operation: alternatives (OR) of schemes that must all be met (AND)."""

    alternatives: tuple[tuple[Scheme, ...], ...]

    @property
    def required(self) -> bool:
        return bool(self.alternatives) and all(self.alternatives)

    @property
    def supported(self) -> bool:
        return all(s.kind != "unsupported" for group in self.alternatives for s in group)

    def headers(self) -> tuple[str, ...]:
        names = {s.header for group in self.alternatives for s in group if s.header}
        return tuple(sorted(names, key=str.lower))

    def is_satisfied_by(self, sent: Mapping[str, str], configured: Mapping[str, str]) -> bool:
        """Whether the request carried our configured credentials for one whole alternative."""
        sent_lower = {k.lower(): v for k, v in sent.items()}
        configured_lower = {k.lower(): v for k, v in configured.items()}
        for group in self.alternatives:
            if all(_carries(s, sent_lower, configured_lower) for s in group):
                return True
        return False

    def describe_attempt(self, sent: Mapping[str, str], configured: Mapping[str, str]) -> ProbeKind:
        sent_lower = {k.lower(): v for k, v in sent.items()}
        carried = [sent_lower.get(h.lower()) for h in self.headers()]
        if not any(carried):
            return "no credentials"
        expected_schemes = {
            s.kind for group in self.alternatives for s in group if s.kind in ("bearer", "basic")
        }
        authorization = sent_lower.get(AUTHORIZATION.lower())
        if authorization and expected_schemes:
            scheme = authorization.partition(" ")[0].lower()
            if scheme not in expected_schemes:
                return "another scheme"
        return "wrong credentials"


def _carries(scheme: Scheme, sent: Mapping[str, str], configured: Mapping[str, str]) -> bool:
    if scheme.header is None:
        return False
    expected = configured.get(scheme.header.lower())
    return expected is not None and sent.get(scheme.header.lower()) == expected


def schemes(document: Mapping[str, Any]) -> dict[str, Scheme]:
    components = document.get("components")
    raw = components.get("securitySchemes", {}) if isinstance(components, dict) else {}
    result: dict[str, Scheme] = {}
    for name, definition in (raw or {}).items():
        definition = resolved(document, definition)
        result[str(name)] = _scheme(str(name), definition if isinstance(definition, dict) else {})
    return result


def _scheme(name: str, definition: Mapping[str, Any]) -> Scheme:
    kind = definition.get("type")
    if kind == "http":
        http = str(definition.get("scheme", "")).lower()
        if http in ("bearer", "basic"):
            return Scheme(name, "bearer" if http == "bearer" else "basic", AUTHORIZATION)
    if kind == "apiKey" and definition.get("in") == "header" and definition.get("name"):
        return Scheme(name, "header", str(definition["name"]))
    return Scheme(name, "unsupported", None)


def security_of(document: Mapping[str, Any], operation: Mapping[str, Any]) -> Security:
    """The operation's own `security`, else the document's; `{}` among them makes auth optional."""
    requirements = operation.get("security", document.get("security", []))
    known = schemes(document)
    alternatives: list[tuple[Scheme, ...]] = []
    for requirement in requirements if isinstance(requirements, list) else []:
        if not isinstance(requirement, dict):
            continue
        group = tuple(known.get(str(n), Scheme(str(n), "unsupported", None)) for n in requirement)
        alternatives.append(group)
    return Security(tuple(alternatives))


def credential_headers(document: Mapping[str, Any], token: str | None) -> dict[str, str]:
    """The headers that present `token` for every scheme the document's operations use."""
    if not token:
        return {}
    used: list[Scheme] = []
    for ref in iter_operations(document):
        for group in security_of(document, ref.operation).alternatives:
            used.extend(s for s in group if s not in used)
    headers: dict[str, str] = {}
    # Bearer before basic: one Authorization header can carry only one of them.
    for scheme in sorted(
        used,
        key=lambda s: ("bearer", "basic", "header").index(s.kind) if s.kind != "unsupported" else 9,
    ):
        if scheme.header and scheme.header not in headers:
            headers[scheme.header] = scheme.credential(token)
    return headers


@dataclass(frozen=True, slots=True)
class AuthProbe:
    kind: ProbeKind
    headers: dict[str, str]  # headers to set on top of the request
    remove: tuple[str, ...]  # headers to drop first


def auth_probes(security: Security, token: str | None) -> list[AuthProbe]:
    """No credentials, the right secret under another scheme, and a wrong credential."""
    if not security.required or not security.supported:
        return []
    carriers = security.headers()
    probes = [AuthProbe("no credentials", {}, carriers)]
    kinds = {s.kind for group in security.alternatives for s in group}
    if token and kinds & {"bearer", "basic"}:
        other = "Basic" if "bearer" in kinds else "Bearer"
        probes.append(AuthProbe("another scheme", {AUTHORIZATION: f"{other} {token}"}, carriers))
    first = security.alternatives[0]
    wrong = {s.header: s.credential(WRONG_TOKEN) for s in first if s.header}
    probes.append(AuthProbe("wrong credentials", wrong, carriers))
    return probes
