"""The embedded default: `contract conform` without --url serves the reference and checks it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import yaml

from generator.spec.openapi import iter_operations
from reference.workflows import STEP_SECONDS_VARIABLE
from tests.support.conform import run_conform
from tests.support.reference_server import ReferenceServer
from tests.support.server import REPO

SPEC = REPO / "spec" / "agentos.yaml"


def declared_operations() -> set[str]:
    document = yaml.safe_load(SPEC.read_text("utf-8"))
    return {f"{ref.method.upper()} {ref.path}" for ref in iter_operations(document)}


@pytest.mark.slow
def test_reference_passes_with_zero_findings(tmp_path: Path) -> None:
    done = run_conform("--max-examples", "10", "--seed", "1", "--report", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert report["findings"] == []
    assert report["errors"] == []
    assert report["embedded_reference"] is True
    assert {row["operation"] for row in report["coverage"]} == declared_operations()
    # Every operation answered at least one 2xx: the pinned demo workflow and the links work.
    for row in report["coverage"]:
        assert any(row["seen"].get(s, 0) for s in ("200", "201", "202")), row
    assert "stateful" in report["phases"]  # the spec declares links
    # The reference was stopped afterwards.
    base_url = report["base_url"]
    try:
        requests.get(base_url, timeout=2)
        still_up = True
    except requests.ConnectionError:
        still_up = False
    assert not still_up


def test_a_reference_that_cannot_start_is_exit_2_with_its_reason() -> None:
    done = run_conform("--max-examples", "5", env={"AGENTOS_DEMO_STEP_SECONDS": "-1"})
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("contract conform: the embedded reference did not start:")
    assert "AGENTOS_DEMO_STEP_SECONDS" in line  # the reference's own reason, passed on
    assert done.stdout == ""


@pytest.mark.slow
def test_contract_serve_with_its_defaults_conforms_under_the_documented_command(
    tmp_path: Path,
) -> None:
    """README's third-party recipe against our own server: serve, then conform --url."""
    defaults = {STEP_SECONDS_VARIABLE: ""}  # the served default, not the tests' long steps
    with ReferenceServer(tmp_path / "agentos.db", tmp_path / "serve.log", env=defaults) as server:
        assert server.token is not None
        done = run_conform(
            "--url", server.url, "--token", server.token, "--max-examples", "10", "--seed", "1"
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CONFORMANT: 0 findings" in done.stdout
