"""A deliberately hostile server cannot hurt the runner (tests/broken/: gzip_bomb, drip, redirect,
endless_body, huge_headers, malformed_json, non_utf8, hostile_text).

Each case runs `contract conform --url` against the server on 127.0.0.1 and asserts that the run
ends (the subprocess has a time limit: a run held forever fails the test) with the right finding,
no traceback, and nothing the server sent raw in the terminal output or the reports: no control
characters, no Markdown that escapes its block, `junit.xml` well-formed with exactly one failure
element per finding.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path
from xml.etree import ElementTree as ET  # noqa: S405 - our own report, parsed to prove it is XML

import pytest

from conformance.bounded_http import DEFAULT_MAX_RESPONSE_BYTES
from generator.launch import contract_command
from generator.spec.config import TOKEN_VARIABLE
from tests.broken import redirect
from tests.broken.gzip_bomb import DECODED_BYTES
from tests.support.conform import CONTRACT, MAX_EXAMPLES, PINS, TOKEN, Outcome, broken_server
from tests.support.conform import conform as run_against
from tests.support.outcomes import ConformOutcomes
from tests.support.server import REPO, uvicorn_server

pytestmark = pytest.mark.slow

CANCEL = "POST /workflows/{workflow_id}/runs/{run_id}/cancel"
LIST = "GET /workflows"
# What must never reach a terminal or a report raw (newline and tab may).
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

HOSTILE_TABLE = [
    # (server, operation, check that must catch it, words its key holds, extra arguments)
    ("gzip_bomb", CANCEL, "response_limits", "bytes decoded", ()),
    (
        "endless_body",
        CANCEL,
        "response_limits",
        "over 1000000 bytes",
        ("--max-response-bytes", "1000000"),
    ),
    ("huge_headers", CANCEL, "response_limits", "headers", ()),
    ("drip", CANCEL, "request_timeout", "timeout", ("--request-timeout", "2")),
    ("malformed_json", LIST, "declared_schema", "MalformedJson", ()),
    ("non_utf8", LIST, "declared_schema", "ContentDeserializationError", ()),
    ("hostile_text", LIST, "declared_schema", "JsonSchemaError", ()),
]


def assert_nothing_raw(outcome: Outcome) -> None:
    """No traceback, no raw control character anywhere, well-formed junit.xml."""
    assert "Traceback" not in outcome.stderr + outcome.stdout, outcome.stderr
    texts = {
        "stdout": outcome.stdout,
        "stderr": outcome.stderr,
        "report.json": outcome.text("report.json"),
        "report.md": outcome.text("report.md"),
        "junit.xml": outcome.text("junit.xml"),
    }
    for name, text in texts.items():
        found = RAW.search(text)
        assert found is None, f"{name} holds a raw {found.group()!r}"
    suite = ET.fromstring(texts["junit.xml"].encode("utf-8"))  # noqa: S314 - our own file
    failures = suite.findall(".//failure")
    assert len(failures) == len(outcome.report()["findings"])


@pytest.mark.parametrize(
    ("server", "operation", "check", "words", "extra"),
    HOSTILE_TABLE,
    ids=[row[0] for row in HOSTILE_TABLE],
)
def test_hostile_server_is_a_finding_not_a_crash(
    server: str,
    operation: str,
    check: str,
    words: str,
    extra: tuple[str, ...],
    conform_outcomes: ConformOutcomes,
) -> None:
    outcome = conform_outcomes.get(server, *extra)
    assert outcome.returncode == 1, outcome.stdout + outcome.stderr
    findings = outcome.report()["findings"]
    caught = [f for f in findings if f["check"] == check and f["operation"] == operation]
    assert caught, findings
    assert any(words in f["key"] for f in caught), [f["key"] for f in caught]
    # Only the hostile operations are reported: the others answer as the good server does.
    hostile = {operation, CANCEL} if server == "hostile_text" else {operation}
    assert {f["operation"] for f in findings} == hostile, findings
    assert outcome.report()["errors"] == []
    assert_nothing_raw(outcome)


def test_hostile_text_stays_inside_its_blocks(conform_outcomes: ConformOutcomes) -> None:
    outcome = conform_outcomes.get("hostile_text")
    markdown = outcome.text("report.md")
    # The body's `~~~` line and `# PWNED heading` stay text inside a longer fence.
    assert "PWNED heading" in markdown
    outside = lines_outside_fences(markdown)
    assert not [line for line in outside if "PWNED" in line or "injected" in line], outside
    suite = ET.fromstring(outcome.text("junit.xml").encode("utf-8"))  # noqa: S314
    assert "injected" not in {case.get("name") for case in suite.iter("testcase")}
    messages = json.dumps(outcome.report()["findings"])
    assert "\\\\x1b" in messages  # the escape sequence is shown, escaped


def lines_outside_fences(markdown: str) -> list[str]:
    """The lines not in fenced code blocks, read as CommonMark does: a fence closes only on a
    line of the same character at least as long as the one that opened it."""
    outside: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines():
        if fence is None:
            opened = re.match(r"(~{3,}|`{3,})", line)
            fence = opened.group(1) if opened else None
            if fence is None:
                outside.append(line)
        elif re.fullmatch(re.escape(fence[0]) + f"{{{len(fence)},}}", line.strip()):
            fence = None
    return outside


def test_a_redirect_to_another_origin_is_the_status_it_is_and_gets_no_token(
    tmp_path: Path,
) -> None:
    log = tmp_path / "other-origin.log"
    log.touch()
    target = uvicorn_server(
        "tests.broken.redirect:create_target", env={redirect.LOG_VARIABLE: str(log)}
    )
    with target as other_origin:
        with broken_server("redirect", {redirect.TARGET_VARIABLE: other_origin}) as url:
            outcome = run_against(url, report=tmp_path / "report")
        arrived = log.read_text("utf-8")
    assert outcome.returncode == 1, outcome.stdout + outcome.stderr
    keys = {(f["operation"], f["check"], f["key"]) for f in outcome.report()["findings"]}
    assert (CANCEL, "declared_status", "307") in keys
    assert "Bearer" not in arrived
    assert TOKEN not in arrived
    assert "/steal" not in arrived  # not followed at all
    assert_nothing_raw(outcome)


def test_a_gzip_bomb_leaves_the_runner_s_memory_bounded(tmp_path: Path) -> None:
    """The bomb decodes to 1 GiB; the runner's peak resident memory stays far below it."""
    with broken_server("gzip_bomb") as url:
        returncode, peak = measured_conform(url, tmp_path / "report")
    assert returncode == 1
    assert peak < DECODED_BYTES // 2, f"peak RSS {peak >> 20} MiB"
    assert peak > DEFAULT_MAX_RESPONSE_BYTES  # the measure measures something


def measured_conform(url: str, report: Path) -> tuple[int, int]:
    """`contract conform` against `url`: its exit code and its peak resident memory in bytes."""
    arguments = [CONTRACT, "--url", url, *PINS, "--token", TOKEN, "--max-examples"]
    arguments += [str(MAX_EXAMPLES), "--seed", "1", "--report", report]
    environment = {k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE}
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            [*contract_command(), "conform", *map(str, arguments)],
            cwd=REPO,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        limit = time.monotonic() + 300  # a bound on a hung run, not a speed assertion
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > limit:
                process.kill()
                pytest.fail("contract conform did not end")
            time.sleep(0.2)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        assert b"Traceback" not in out.read()
    return process.returncode, usage.ru_maxrss * 1024
