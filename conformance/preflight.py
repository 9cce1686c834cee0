"""Before any test: is there a server at the base URL at all, and will it take our token?

A server that cannot be checked is `Unusable` (exit 2 with one clear line), not a finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from generator.spec.config import TOKEN_VARIABLE
from generator.spec.openapi import iter_operations

from .bounded_http import Limits, UnreadableResponse, bounded_session
from .credentials import security_of

PREFLIGHT_CONNECT_TIMEOUT = 3.0
PREFLIGHT_READ_TIMEOUT = 5.0


class Unusable(Exception):
    """The server cannot be checked at all (it is unreachable, or the URL is not a base URL)."""


def preflight(url: str, limits: Limits) -> None:
    """Raise Unusable, in one line, when `url` cannot serve as a base URL or does not answer."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unusable(f"--url {url!r}: expected an http:// or https:// URL with a host")
    try:
        with bounded_session(preflight_limits(limits)) as session:
            session.trust_env = False
            session.get(
                url,
                timeout=(PREFLIGHT_CONNECT_TIMEOUT, PREFLIGHT_READ_TIMEOUT),
                allow_redirects=False,
            )
    except UnreadableResponse:
        return  # it answered; what it answers is the run's business
    except requests.Timeout:
        raise Unusable(
            f"{url} is not answering (no response within {PREFLIGHT_READ_TIMEOUT:g} s)"
        ) from None
    except requests.ConnectionError as exc:
        raise Unusable(f"cannot reach {url}: {connection_reason(exc)}") from None
    except requests.RequestException as exc:
        raise Unusable(f"cannot reach {url}: {type(exc).__name__}") from None


def connection_reason(exc: BaseException) -> str:
    """A few words for a failed connection: refused, unknown host, timed out, reset."""
    text = str(exc).lower()
    for needle, reason in (
        ("refused", "connection refused"),
        ("name or service not known", "unknown host"),
        ("nodename nor servname", "unknown host"),
        ("temporary failure in name resolution", "unknown host"),
        ("timed out", "connection timed out"),
        ("reset", "connection reset"),
    ):
        if needle in text:
            return reason
    return "connection failed"


def preflight_limits(limits: Limits) -> Limits:
    """The run's byte limit; the preflight's own time limit, connecting and reading."""
    return Limits(limits.max_bytes, PREFLIGHT_CONNECT_TIMEOUT + PREFLIGHT_READ_TIMEOUT)


def check_credentials(
    document: Mapping[str, Any],
    url: str,
    token: str | None,
    headers: Mapping[str, str],
    limits: Limits,
) -> None:
    """Raise Unusable when the secured operations cannot be passed: no token, or a refused one.

    A run without credentials the server accepts sees only 401s from every secured operation and
    would read CONFORMANT with nothing past authentication tested. The token is tried on one
    secured GET that needs no parameter, when the spec has one; the run's own answers are judged
    afterwards too (`credentials_refused`).
    """
    secured = [
        ref for ref in iter_operations(document) if security_of(document, ref.operation).required
    ]
    if not secured:
        return
    total = sum(1 for _ in iter_operations(document))
    if token is None:
        raise Unusable(
            f"no token (--token or ${TOKEN_VARIABLE}): {len(secured)} of {total} operations "
            "require credentials, so nothing past their authentication would be tested "
            "(--allow-unauthenticated checks only their 401 answers)"
        )
    probe = next((ref for ref in secured if ref.method == "get" and "{" not in ref.path), None)
    if probe is None:
        return
    try:
        with bounded_session(preflight_limits(limits)) as session:
            session.trust_env = False
            answer = session.get(
                url + probe.path,
                headers=dict(headers),
                timeout=(PREFLIGHT_CONNECT_TIMEOUT, PREFLIGHT_READ_TIMEOUT),
                allow_redirects=False,
            )
    except requests.RequestException:
        return  # the run itself will say what is wrong with the server
    if answer.status_code == 401:
        raise Unusable(
            f"the server refused the token: GET {probe.path} answered 401 with it, so nothing "
            f"past authentication would be tested; check --token or ${TOKEN_VARIABLE} "
            "(--allow-unauthenticated checks only the 401 answers)"
        )
