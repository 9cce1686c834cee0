"""Before any test: is there a server at the base URL at all? And why a connection failed.

A server that cannot be checked is `Unusable` (exit 2 with one clear line), not a finding.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

PREFLIGHT_CONNECT_TIMEOUT = 3.0
PREFLIGHT_READ_TIMEOUT = 5.0


class Unusable(Exception):
    """The server cannot be checked at all (it is unreachable, or the URL is not a base URL)."""


def preflight(url: str) -> None:
    """Raise Unusable, in one line, when `url` cannot serve as a base URL or does not answer."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unusable(f"--url {url!r}: expected an http:// or https:// URL with a host")
    try:
        with requests.Session() as session:
            session.trust_env = False
            session.get(
                url,
                timeout=(PREFLIGHT_CONNECT_TIMEOUT, PREFLIGHT_READ_TIMEOUT),
                allow_redirects=False,
            )
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
