"""`contract conform` failure modes: unreachable, unusable input, secrets, reproducibility."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broken.base import LOG_VARIABLE
from tests.support.conform import CONTRACT, TOKEN, broken_server, conform, run_conform
from tests.support.outcomes import ConformOutcomes
from tests.support.server import free_port


def test_unreachable_url_is_exit_2_with_one_clear_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    done = run_conform(CONTRACT, "--url", url, "--token", TOKEN)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [f"contract conform: cannot reach {url}: connection refused"]
    assert "Traceback" not in done.stdout + done.stderr


def test_an_unwritable_report_folder_is_refused_before_testing(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", "utf-8")
    with broken_server("good") as url:
        done = run_conform(CONTRACT, "--url", url, "--token", TOKEN, "--report", blocker / "r")
    assert done.returncode == 2
    assert done.stdout == ""  # refused before any test ran: no summary, nothing lost
    assert done.stderr.strip().splitlines() == [
        f"--report {blocker / 'r'}: cannot write reports there (Not a directory)"
    ]


@pytest.fixture
def silent_listener() -> Iterator[str]:
    """A socket that accepts connections and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.slow
def test_server_that_never_answers_is_exit_2(silent_listener: str) -> None:
    done = run_conform(CONTRACT, "--url", silent_listener, "--token", TOKEN)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"contract conform: {silent_listener} is not answering (no response within 5 s)"
    ]


def test_invalid_spec_is_exit_2_with_the_validator_message(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"
        "paths:\n  /x:\n    get:\n      responses: {'200': {}}\n",
        "utf-8",
    )
    done = run_conform(spec, "--url", "http://127.0.0.1:9")
    assert done.returncode == 2
    assert f"{spec}#/paths/~1x/get/responses/200" in done.stderr
    assert "description" in done.stderr
    assert done.stdout == ""


def test_not_an_openapi_document_is_exit_2(tmp_path: Path) -> None:
    spec = tmp_path / "notes.yaml"
    spec.write_text("just: some yaml\n", "utf-8")
    done = run_conform(spec, "--url", "http://127.0.0.1:9")
    assert done.returncode == 2
    assert "not an OpenAPI 3.x document" in done.stderr


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("workflow_id=demo", "expected LOCATION.NAME=VALUE"),
        ("body.workflow_id=demo", "location must be one of path, query, header, cookie"),
        ("path.nope=1", "no operation declares a path parameter 'nope'"),
    ],
)
def test_bad_param_is_a_usage_error(param: str, message: str) -> None:
    done = run_conform(CONTRACT, "--url", "http://127.0.0.1:9", "--param", param)
    assert done.returncode == 2
    assert message in done.stderr


def test_bad_numbers_are_usage_errors() -> None:
    done = run_conform(CONTRACT, "--url", "http://127.0.0.1:9", "--max-examples", "0")
    assert done.returncode == 2
    assert "--max-examples must be at least 1" in done.stderr


@pytest.mark.slow
def test_the_token_never_appears_in_any_output_or_report(conform_outcomes: ConformOutcomes) -> None:
    # This server echoes the credential it received in its bodies, and the probes send the token
    # under another scheme: every way the secret could leak is exercised. (The same run as in
    # test_conformance_broken.py: `conform_outcomes` runs it once per session.)
    outcome = conform_outcomes.get("auth_bypass")
    assert outcome.returncode == 1
    assert outcome.folder is not None
    report = outcome.folder
    outputs = {"stdout": outcome.stdout, "stderr": outcome.stderr}
    outputs |= {p.name: p.read_text("utf-8") for p in report.iterdir()}
    for name, text in outputs.items():
        assert TOKEN not in text, f"token leaked into {name}"
        assert TOKEN[4:-4] not in text, f"part of the token leaked into {name}"
    # The other-scheme probe sent the token: its curl line reads it from $CONTRACT_TOKEN, and the
    # server's echo of it in the response excerpt is replaced the same way.
    assert 'Authorization: Basic ${CONTRACT_TOKEN}"' in outputs["report.md"]
    excerpts = [f["response"]["excerpt"] for f in outcome.report()["findings"]]
    assert any('"credential":"Basic ${CONTRACT_TOKEN}"' in e for e in excerpts)


@pytest.mark.slow
def test_same_seed_sends_the_same_requests(tmp_path: Path) -> None:
    log = tmp_path / "requests.log"
    sent: list[str] = []
    with broken_server("good", env={LOG_VARIABLE: str(log)}) as url:
        for seed in (5, 5, 6):
            log.write_text("", "utf-8")
            outcome = conform(url, seed=seed, report=tmp_path / f"run-{len(sent)}")
            assert outcome.returncode == 0, outcome.stdout + outcome.stderr
            sent.append(log.read_text("utf-8"))
    assert sent[0].count("\n") > 20
    assert sent[0] == sent[1]
    assert sent[0] != sent[2]
    first, second = (
        (tmp_path / f"run-{i}" / "report.json").read_text("utf-8").split('"duration_seconds"')[0]
        for i in (0, 1)
    )
    assert first == second


@pytest.mark.slow
def test_summary_shows_the_seed_and_how_to_reproduce(tmp_path: Path) -> None:
    with broken_server("schema_mismatch") as url:
        outcome = conform(url, seed=4242)
    assert "seed 4242" in outcome.stdout
    reproduce = " ".join(outcome.stdout.replace("\\\n", " ").split())  # unwrap its ` \` lines
    assert "--seed 4242" in reproduce
    assert TOKEN not in outcome.stdout
