"""The suite as a pytest plugin: one test per operation × check, fed by one run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.conform import CONTRACT, PINS, TOKEN, broken_server
from tests.support.server import free_port

OPERATIONS = 3
CHECKS = 8
ITEMS = 1 + OPERATIONS * CHECKS  # contract::run, then operation × check


def run_pytest(url: str, folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    pins = [f"--contract-param={value}" for value in PINS[1::2]]
    command = [
        sys.executable, "-m", "pytest", "-p", "conformance.plugin", "-p", "no:cacheprovider",
        "-q", "-rf", f"--contract-url={url}", f"--contract-token={TOKEN}",
        f"--contract-spec={CONTRACT}", "--contract-max-examples=8", "--contract-seed=1",
        *pins, *extra,
    ]  # fmt: skip
    return subprocess.run(
        command, cwd=folder, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.slow
def test_plugin_passes_a_conformant_server(tmp_path: Path) -> None:
    with broken_server("good") as url:
        done = run_pytest(url, tmp_path, f"--contract-report={tmp_path / 'report'}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{ITEMS} passed" in done.stdout
    assert (tmp_path / "report" / "junit.xml").is_file()


@pytest.mark.slow
def test_plugin_fails_exactly_the_violated_operations_and_check(tmp_path: Path) -> None:
    # Both operations that answer 404 (start a run, cancel) send the malformed body.
    with broken_server("schema_mismatch") as url:
        done = run_pytest(url, tmp_path)
    assert done.returncode == 1
    assert f"2 failed, {ITEMS - 2} passed" in done.stdout
    failed = sorted(
        line.split(" - ")[0] for line in done.stdout.splitlines() if line.startswith("FAILED")
    )
    assert failed == [
        "FAILED contract::POST /workflows/{workflow_id}/runs/{run_id}/cancel::declared_schema",
        "FAILED contract::POST /workflows/{workflow_id}/runs::declared_schema",
    ]
    assert '"detail" is a required property' in done.stdout
    assert "curl " in done.stdout
    assert "the curl line reads the token from $CONTRACT_TOKEN" in done.stdout
    assert TOKEN not in done.stdout + done.stderr


@pytest.mark.slow
def test_plugin_reports_an_unreachable_server_once(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = run_pytest(url, tmp_path)
    assert done.returncode == 2
    assert "failed" not in done.stdout and "passed" not in done.stdout
    assert done.stdout.count("connection refused") == 1
    assert f"contract conform: cannot reach {url}: connection refused" in done.stdout


@pytest.mark.slow
def test_plugin_stops_at_a_refused_token_and_skips_untested_operations(tmp_path: Path) -> None:
    with broken_server("good") as url:
        refused = run_pytest(url, tmp_path, "--contract-token=wrong")
        allowed = run_pytest(
            url, tmp_path, "--contract-token=wrong", "--contract-allow-unauthenticated", "-rs"
        )
    assert refused.returncode == 2
    assert "contract conform: the server refused the token" in refused.stdout
    assert allowed.returncode == 0, allowed.stdout
    # Nothing past authentication was tested: skipped with the reason, not passed.
    assert "never answered a declared 2xx" in allowed.stdout
    assert f"{OPERATIONS * CHECKS} skipped" in allowed.stdout


def test_plugin_is_silent_without_a_url(tmp_path: Path) -> None:
    (tmp_path / "test_nothing.py").write_text("def test_one():\n    assert True\n", "utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "conformance.plugin",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0
    assert "1 passed" in done.stdout
