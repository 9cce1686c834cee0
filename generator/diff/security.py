"""What credentials an operation accepts, and whether every client that could call it still can.

Security schemes are compared by what a client sends (an HTTP scheme, an API key in a named place,
OAuth2 flows, ...), not by their names in `components.securitySchemes`, so renaming a scheme is no
change of the API.
"""

from __future__ import annotations

from typing import Any

from generator.diff.normalise import canonical
from generator.diff.side import Side, as_mapping

Requirement = dict[tuple[str, ...], set[str]]  # scheme identity → scopes; {} is anonymous


def security_change(old: Side, new: Side) -> tuple[str, str] | None:
    """The rule id and message for a change of two operations' security; None when equal."""
    old_alternatives, new_alternatives = _requirements(old), _requirements(new)
    old_texts = sorted(map(_requirement_text, old_alternatives))
    if old_texts == sorted(map(_requirement_text, new_alternatives)):
        return None
    accepted = " or ".join(_requirement_text(a) for a in new_alternatives)
    old_open, new_open = {} in old_alternatives, {} in new_alternatives
    if new_open:
        if old_open:
            return "api-security-relaxed", f"credentials stay optional; it accepts {accepted}"
        return "api-security-relaxed", f"anonymous requests are now accepted; it accepts {accepted}"
    if old_open:
        return (
            "api-security-added",
            f"anonymous requests are no longer accepted; it needs {accepted}",
        )
    lost = [a for a in old_alternatives if not any(_satisfies(a, b) for b in new_alternatives)]
    if lost:
        names = ", ".join(_requirement_text(a) for a in lost)
        return (
            "api-security-changed",
            f"credentials for {names} no longer work; it accepts {accepted}",
        )
    return "api-security-relaxed", f"every old credential still works; it now accepts {accepted}"


def _requirements(operation: Side) -> list[Requirement]:
    """The alternatives an operation accepts: its `security`, else the document's."""
    document = operation.document
    node = operation.mapping
    raw = node["security"] if "security" in node else document.get("security")
    raw = raw if isinstance(raw, list) and raw else [{}]
    schemes = as_mapping(as_mapping(document.get("components")).get("securitySchemes"))
    alternatives: list[Requirement] = []
    for requirement in raw:
        alternative: Requirement = {}
        for name, scopes in as_mapping(requirement).items():
            scheme = Side(document, schemes.get(name), "").resolved().node
            identity = _scheme_identity(name, scheme)
            alternative[identity] = {str(s) for s in scopes} if isinstance(scopes, list) else set()
        alternatives.append(alternative)
    return alternatives


def _scheme_identity(name: str, scheme: Any) -> tuple[str, ...]:
    """What a client sends for a scheme; a renamed scheme that is otherwise equal is no change."""
    if not isinstance(scheme, dict):
        return ("undefined", name)
    kind = str(scheme.get("type", ""))
    if kind == "http":
        return ("http", str(scheme.get("scheme", "")).lower())
    if kind == "apiKey":
        location = str(scheme.get("in", ""))
        key = str(scheme.get("name", ""))
        return ("apiKey", location, key.lower() if location == "header" else key)
    if kind == "oauth2":
        return ("oauth2", canonical(scheme.get("flows")))
    if kind == "openIdConnect":
        return ("openIdConnect", str(scheme.get("openIdConnectUrl", "")))
    return (kind, name)


def _scheme_text(identity: tuple[str, ...]) -> str:
    kind = identity[0]
    if kind == "http":
        return f"http {identity[1]}"
    if kind == "apiKey":
        return f"API key in {identity[1]} {identity[2]!r}"
    if kind == "undefined":
        return f"undefined scheme {identity[1]!r}"
    return kind


def _requirement_text(alternative: Requirement) -> str:
    if not alternative:
        return "anonymous"
    parts = []
    for identity in sorted(alternative):
        scopes = sorted(alternative[identity])
        text = _scheme_text(identity)
        parts.append(f"{text} [{' '.join(scopes)}]" if scopes else text)
    return " + ".join(parts)


def _satisfies(old: Requirement, new: Requirement) -> bool:
    """A client holding the credentials of `old` can meet the requirement `new`."""
    return all(identity in old and scopes <= old[identity] for identity, scopes in new.items())
