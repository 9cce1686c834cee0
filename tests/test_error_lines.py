"""Every error line of a run says which request, what happened and what to do."""

from __future__ import annotations

import json

import requests

from conformance.collector import Collector
from conformance.error_lines import describe_exception, engine_curl
from conformance.results import Redactor, RunResult
from conformance.schemathesis_api import events
from generator.terminal.progress import Progress

TOKEN = "s3cret-token-value"
SAMPLE = (
    "curl -X GET -H 'Authorization: Bearer s3cret-token-value' "
    "'http://127.0.0.1:9/agents/a%20b?limit=3'"
)


def collector() -> Collector:
    result = RunResult(
        spec="s.yaml",
        base_url="http://127.0.0.1:9",
        seed=1,
        max_examples=1,
        workers=1,
        request_timeout=1,
        checks=(),
    )
    return Collector(result, Redactor(TOKEN), {}, {}, Progress(enabled=False))


def garbled() -> UnicodeDecodeError:
    try:
        b'{"name": "D\xe9mo"}'.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc
    raise AssertionError("decoded")


def test_an_undecodable_body_names_the_request_and_the_fix() -> None:
    run = collector()
    error = events.NonFatalError(
        error=garbled(),
        phase=None,
        label="GET /agents",
        related_to_operation=True,
        code_sample=SAMPLE,
    )
    run.engine_error(error)
    [line] = run.result.errors
    assert line.startswith("GET /agents: the response body is not valid UTF-8 (byte 0xe9 at")
    assert "codec" not in line and "Runtime Error" not in line
    assert '; request: curl -X GET -H "Authorization: Bearer ${CONTRACT_TOKEN}" ' in line
    assert TOKEN not in line
    assert line.endswith(
        "what to do: send text in the charset the Content-Type declares (UTF-8 for JSON, RFC 8259)"
    )


def test_other_exceptions_get_a_hint_and_no_bare_text() -> None:
    what, hint = describe_exception(json.JSONDecodeError("Expecting value", "x", 0))
    assert what.startswith("the response body is not JSON (Expecting value at line 1")
    assert "declared media type" in hint
    what, hint = describe_exception(requests.ConnectionError("Connection refused"))
    assert what == "the server stopped answering (connection refused)"
    assert "server's log" in hint
    what, hint = describe_exception(RuntimeError("boom\nTraceback..."))
    assert what == "RuntimeError: boom" and "bug in contract conform" in hint


def test_a_run_level_error_and_a_missing_sample_still_say_what_to_do() -> None:
    run = collector()
    run.engine_error(
        events.NonFatalError(
            error=ValueError("bad hook"), phase=None, label="checks", related_to_operation=False
        )
    )
    [line] = run.result.errors
    assert "no request to show" in line and "what to do:" in line


def test_engine_curl_is_one_line_and_lets_the_token_expand() -> None:
    assert engine_curl(None) is None
    redacted = Redactor(TOKEN).text(SAMPLE.replace(" -H", " \\\n  -H"))
    curl = engine_curl(redacted)
    assert curl is not None and curl.startswith("curl -X GET -H ")
    assert '"Authorization: Bearer ${CONTRACT_TOKEN}"' in curl
