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
    assert f"{OPERATIONS * CHECKS} passed" in done.stdout
    assert (tmp_path / "report" / "junit.xml").is_file()


@pytest.mark.slow
def test_plugin_fails_exactly_the_violated_operations_and_check(tmp_path: Path) -> None:
    # Both operations that answer 404 (start a run, cancel) send the malformed body.
    with broken_server("schema_mismatch") as url:
        done = run_pytest(url, tmp_path)
    assert done.returncode == 1
    assert f"2 failed, {OPERATIONS * CHECKS - 2} passed" in done.stdout
    failed = sorted(
        line.split(" - ")[0] for line in done.stdout.splitlines() if line.startswith("FAILED")
    )
    assert failed == [
        "FAILED ::contract::POST /workflows/{workflow_id}/runs/{run_id}/cancel::declared_schema",
        "FAILED ::contract::POST /workflows/{workflow_id}/runs::declared_schema",
    ]
    assert '"detail" is a required property' in done.stdout
    assert "curl " in done.stdout
    assert TOKEN not in done.stdout + done.stderr


@pytest.mark.slow
def test_plugin_reports_an_unreachable_server_on_every_item(tmp_path: Path) -> None:
    done = run_pytest(f"http://127.0.0.1:{free_port()}", tmp_path)
    assert done.returncode == 1
    assert f"{OPERATIONS * CHECKS} failed" in done.stdout
    assert "connection refused" in done.stdout


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
