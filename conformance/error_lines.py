"""One line per error of a run: which request (method, path, a curl line), what went wrong, and
what to do about it. Never a bare exception text.

The engine reports errors that are not check failures (a body it cannot decode, a dropped
connection, a bug) as exceptions; these functions turn them into lines a person can act on. The
lines still pass through the run's `Redactor` (the collector's `error`), so a curl line carries
`${CONTRACT_TOKEN}`, never the token.
"""

from __future__ import annotations

import json
import shlex

import requests

from .preflight import connection_reason
from .results import TOKEN_PLACEHOLDER, requote

BUG_HINT = (
    "if the server's answer to it looks right, this is a bug in contract conform: report it "
    "with this line and the --seed"
)


def describe_exception(exc: BaseException) -> tuple[str, str]:
    """(what happened, what to do) for an exception raised while a response was handled."""
    if isinstance(exc, UnicodeDecodeError):
        return (
            f"the response body is not valid {exc.encoding.upper()} (byte 0x{_byte(exc)} at "
            f"position {exc.start}: {exc.reason})",
            "send text in the charset the Content-Type declares (UTF-8 for JSON, RFC 8259)",
        )
    if isinstance(exc, json.JSONDecodeError):
        return (
            f"the response body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
            "send the declared media type, or declare the one the server sends",
        )
    if isinstance(exc, requests.Timeout):
        return ("no response in time", "raise --request-timeout, or make the server answer")
    if isinstance(exc, requests.ConnectionError):
        return (
            f"the server stopped answering ({connection_reason(exc)})",
            "check the server's log for this request: it may have crashed on it",
        )
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return (f"{type(exc).__name__}: {first}" if first else type(exc).__name__, BUG_HINT)


def _byte(exc: UnicodeDecodeError) -> str:
    try:
        return f"{exc.object[exc.start]:02x}"
    except (IndexError, TypeError):
        return "??"


def error_line(operation: str, what: str, hint: str, curl: str | None = None) -> str:
    """`OPERATION: what; request: curl ...; hint` as one line."""
    request = f"; request: {curl}" if curl else "; no request to show (it was never sent)"
    return f"{operation}: {what}{request}; what to do: {hint}"


def engine_curl(code_sample: str | None) -> str | None:
    """Schemathesis' reproduction line (the token already redacted), re-quoted so that
    `${CONTRACT_TOKEN}` expands, on one line."""
    if not code_sample:
        return None
    line = " ".join(code_sample.replace("\\\n", " ").split())  # no line continuations
    if TOKEN_PLACEHOLDER not in line:
        return line
    try:
        return requote(shlex.split(line))
    except ValueError:  # unbalanced quotes: show it as it came
        return line
