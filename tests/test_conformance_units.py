"""The pure parts of the suite: status matching, credentials, redaction, curl lines, params."""

from __future__ import annotations

import base64
import io
import shlex
from typing import Any

import pytest

from conformance.checks import matching_status_key, media_type_matches
from conformance.credentials import auth_probes, credential_headers, security_of
from conformance.options import parse_params, typed_value
from conformance.report import describe_phases, render_junit
from conformance.results import OperationCoverage, Redactor, RunResult
from conformance.summary import render_summary
from generator.spec.errors import UsageError
from generator.terminal.progress import Progress

KEYS = ("200", "4XX", "404", "default")


@pytest.mark.parametrize(
    ("status", "expected"),
    [(200, "200"), (404, "404"), (418, "4XX"), (500, "default"), (201, "default")],
)
def test_status_matching_prefers_exact_then_range_then_default(status: int, expected: str) -> None:
    assert matching_status_key(status, KEYS) == expected


def test_status_matching_without_default_is_none() -> None:
    assert matching_status_key(503, ("200", "4XX")) is None


@pytest.mark.parametrize(
    ("declared", "received", "expected"),
    [
        ("application/json", "application/json; charset=utf-8", True),
        ("application/json", "text/plain", False),
        ("application/*", "application/problem+json", True),
        ("application/json", "not a media type", False),
    ],
)
def test_media_types(declared: str, received: str, expected: bool) -> None:
    assert media_type_matches(declared, received) is expected


DOCUMENT: dict[str, Any] = {
    "security": [{"Key": []}],
    "components": {
        "securitySchemes": {
            "Bearer": {"type": "http", "scheme": "bearer"},
            "Key": {"type": "apiKey", "in": "header", "name": "X-Key"},
            "Cookie": {"type": "apiKey", "in": "cookie", "name": "sid"},
        }
    },
    "paths": {"/a": {"get": {"security": [{"Bearer": []}]}, "post": {"security": []}}},
}


def test_security_comes_from_the_operation_else_the_document() -> None:
    bearer = security_of(DOCUMENT, {"security": [{"Bearer": []}]})
    assert bearer.required and bearer.headers() == ("Authorization",)
    assert not security_of(DOCUMENT, {"security": []}).required
    assert not security_of(DOCUMENT, {"security": [{}, {"Bearer": []}]}).required  # optional
    assert security_of(DOCUMENT, {}).headers() == ("X-Key",)  # the document's default
    assert not security_of(DOCUMENT, {"security": [{"Cookie": []}]}).supported


def test_credentials_and_what_a_request_carried() -> None:
    headers = credential_headers(DOCUMENT, "t0ken")
    assert headers == {"Authorization": "Bearer t0ken"}
    bearer = security_of(DOCUMENT, {"security": [{"Bearer": []}]})
    assert bearer.is_satisfied_by({"authorization": "Bearer t0ken"}, headers)
    assert bearer.describe_attempt({}, headers) == "no credentials"
    assert bearer.describe_attempt({"Authorization": "Basic t0ken"}, headers) == "another scheme"
    assert bearer.describe_attempt({"Authorization": "Bearer nope"}, headers) == "wrong credentials"


def test_auth_probes_cover_missing_other_scheme_and_wrong_token() -> None:
    bearer = security_of(DOCUMENT, {"security": [{"Bearer": []}]})
    probes = auth_probes(bearer, "t0ken")
    assert [p.kind for p in probes] == ["no credentials", "another scheme", "wrong credentials"]
    assert probes[1].headers == {"Authorization": "Basic t0ken"}
    assert probes[2].headers["Authorization"].startswith("Bearer ")
    assert "t0ken" not in probes[2].headers["Authorization"]
    # Without a token there is no "right secret under another scheme" to send.
    assert [p.kind for p in auth_probes(bearer, None)] == ["no credentials", "wrong credentials"]


def test_redactor_replaces_the_secret_in_every_form() -> None:
    secret = "s3cr/t+tok"
    redactor = Redactor(secret)
    basic = base64.b64encode(f":{secret}".encode()).decode()
    text = f"a {secret} b s3cr%2Ft%2Btok c {basic} d"
    assert redactor.text(text) == "a ${CONTRACT_TOKEN} b ${CONTRACT_TOKEN} c ${CONTRACT_TOKEN} d"
    assert redactor.data(secret.encode()) == b"${CONTRACT_TOKEN}"
    assert Redactor("x").text("xyz") == "${CONTRACT_TOKEN}yz"  # short secrets too
    assert Redactor(None).text(secret) == secret


def test_curl_line_is_shell_safe_and_reads_the_token_from_the_environment() -> None:
    exchange = Redactor("tok3n").exchange(
        method="post",
        url="http://127.0.0.1:1/a?q=it's",
        request_headers={
            "Authorization": "Bearer tok3n",
            "User-Agent": "python-requests",
            "X-Schemathesis-TestCaseId": "abc",
            "Content-Type": "application/json",
        },
        request_body=b'{"name": "O\'Brien $HOME"}',
        status=404,
        response_body=b"tok3n" * 300,
    )
    words = shlex.split(exchange.curl())
    assert words[:6] == ["curl", "-sS", "-i", "-X", "POST", "http://127.0.0.1:1/a?q=it's"]
    assert "Authorization: Bearer ${CONTRACT_TOKEN}" in words
    assert "Content-Type: application/json" in words
    assert not any("User-Agent" in w or "TestCaseId" in w for w in words)
    assert words[-1] == '{"name": "O\'Brien $HOME"}'
    assert "tok3n" not in exchange.excerpt()
    assert exchange.excerpt().endswith("more bytes)")


def test_params_are_checked_and_typed_by_their_schema() -> None:
    document = {
        "paths": {
            "/x/{id}": {
                "parameters": [{"name": "id", "in": "path", "schema": {"type": "integer"}}],
                "get": {"parameters": [{"$ref": "#/components/parameters/Q"}]},
            }
        },
        "components": {"parameters": {"Q": {"name": "q", "in": "query", "schema": {}}}},
    }
    pins = parse_params(["path.id=42", "query.q=7"], document)
    assert [(p.key, p.value) for p in pins] == [("path.id", 42), ("query.q", "7")]
    with pytest.raises(UsageError, match="no operation declares a header parameter 'id'"):
        parse_params(["header.id=1"], document)
    assert typed_value("1.5", {"type": ["number", "null"]}) == 1.5
    assert typed_value("abc", {"type": "integer"}) == "abc"


def result_with(**changes: Any) -> RunResult:
    result = RunResult(
        spec="s.yaml",
        base_url="http://127.0.0.1:1",
        seed=3,
        max_examples=5,
        workers=1,
        request_timeout=10,
        checks=("declared_status", "no_server_error"),
        phases=["examples", "fuzzing", "examples (free values)"],
    )
    row = OperationCoverage("GET /a", ("200", "404"))
    row.record(200, "200")
    row.record(418, None)
    result.coverage["GET /a"] = row
    for name, value in changes.items():
        setattr(result, name, value)
    return result


def test_summary_matrix_marks_never_seen_and_undeclared() -> None:
    summary = render_summary(result_with())
    row = next(line for line in summary.splitlines() if line.strip().startswith("GET /a"))
    assert row.split() == ["GET", "/a", "1", "never", "seen", "418", "×1"]
    assert "CONFORMANT: 0 findings" in summary


def test_phases_are_grouped_by_pass() -> None:
    assert describe_phases(result_with()) == "examples, fuzzing; free values: examples; probes"


def test_errors_without_findings_are_exit_2() -> None:
    result = result_with(errors=["GET /a: the server stopped answering"])
    assert result.exit_code == 2
    assert result.verdict == "INCOMPLETE"
    assert 'errors="1"' in render_junit(result)


def test_progress_bar_only_on_a_terminal() -> None:
    quiet, loud = io.StringIO(), io.StringIO()
    for stream, enabled in ((quiet, False), (loud, True)):
        progress = Progress(stream, enabled=enabled)
        progress.start_phase("fuzzing", 4)
        progress.step(requests=10, findings=1)
        progress.close()
    assert quiet.getvalue() == ""
    drawn = loud.getvalue()
    assert "fuzzing" in drawn and "━" in drawn
    assert "1/4" in drawn and "· 10 requests · 1 finding " in drawn
    assert "0/4" in drawn and "/?" not in drawn  # the first frame knows the count
    assert "\x1b[2K" in drawn  # erased at the end


def test_huge_responses_are_truncated_and_never_leak_a_cut_token() -> None:
    token = "T" * 80
    # 20 tokens shrink by 63 bytes each once redacted: a cut made before redacting would pull
    # the token that straddles the cut into the excerpt.
    body = ((token + "x") * 20).encode() + b"y" * 100_000
    exchange = Redactor(token).exchange(
        method="get",
        url="http://127.0.0.1:1/x",
        request_headers={"Authorization": f"Bearer {token}"},
        request_body=None,
        status=200,
        response_body=body,
    )
    excerpt = exchange.excerpt()
    assert "TTTT" not in excerpt and "TTTT" not in exchange.curl()
    assert excerpt.endswith(" more bytes)")
    assert len(excerpt) < 700
    assert exchange.response_size == len(body)
