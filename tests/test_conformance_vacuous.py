"""A green run must mean something: a refused or missing token and a wrong base URL are exit 2.

Against `contract serve` (a real process, its token known), run as a user would with the README's
third-party recipe, only with the credentials or the URL wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SHARED
from tests.support.conform import run_conform
from tests.support.reference_server import ReferenceServer

SEED_CONTRACT = SHARED / "contracts" / "agentos-cancel-workflow-run.yaml"
QUICK = ("--max-examples", "3", "--seed", "1")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceServer]:
    folder = tmp_path_factory.mktemp("vacuous")
    with ReferenceServer(folder / "agentos.db", folder / "serve.log") as running:
        yield running


def one_line(stderr: str) -> str:
    (line,) = stderr.strip().splitlines()
    return line


def test_a_refused_token_is_exit_2_before_testing(server: ReferenceServer) -> None:
    done = run_conform("--url", server.url, "--token", "wrong", *QUICK)
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        "contract conform: the server refused the token: GET /workflows answered 401 with it, "
        "so nothing past authentication would be tested; check --token or $CONTRACT_TOKEN "
        "(--allow-unauthenticated checks only the 401 answers)"
    )
    assert "CONFORMANT" not in done.stdout


def test_a_refused_token_is_found_from_the_answers_when_no_operation_can_try_it_first(
    server: ReferenceServer, tmp_path: Path
) -> None:
    # The seed contract's only operation needs path parameters: no cheap request to try first.
    args = (SEED_CONTRACT, "--url", server.url, "--token", "wrong", *QUICK, "--report", tmp_path)
    done = run_conform(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert one_line(done.stderr).startswith(
        "contract conform: the server refused the token: every authenticated request ("
    )
    assert "NOT TESTED: 0 findings" in done.stdout
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert report["verdict"] == "NOT TESTED" and report["exit_code"] == 2
    assert report["not_tested"].startswith("the server refused the token")
    assert (
        '<skipped message="not tested: the server refused' in (tmp_path / "junit.xml").read_text()
    )


def test_no_token_is_exit_2_unless_unauthenticated_runs_are_allowed(
    server: ReferenceServer, tmp_path: Path
) -> None:
    refused = run_conform("--url", server.url, *QUICK)
    assert refused.returncode == 2
    assert one_line(refused.stderr).startswith(
        "contract conform: no token (--token or $CONTRACT_TOKEN): 4 of 4 operations require "
        "credentials"
    )
    allowed = run_conform(
        "--url", server.url, *QUICK, "--allow-unauthenticated", "--report", tmp_path
    )
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    # Not "passing": every operation is reported untested, in the summary and the reports.
    assert "CONFORMANT: 0 findings, 4 of 4 operations untested" in allowed.stdout
    assert "untested: 4 operations never answered a declared 2xx" in allowed.stdout
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert len(report["untested_operations"]) == 4
    assert not any(row["tested"] for row in report["coverage"])


def test_a_wrong_base_url_says_so(server: ReferenceServer) -> None:
    done = run_conform("--url", server.url + "/wrong-prefix", "--token", server.token or "", *QUICK)
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        "contract conform: every request to every operation was answered 404: the base URL is "
        f"probably wrong (a missing or extra path prefix?): --url {server.url}/wrong-prefix"
    )
    assert "NOT TESTED" in done.stdout


def test_untested_means_no_declared_2xx_was_seen(server: ReferenceServer, tmp_path: Path) -> None:
    done = run_conform(
        "--url", server.url, "--token", server.token or "", *QUICK,
        "--param", "path.workflow_id=demo-sequential", "--report", tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    reached = {
        row["operation"]
        for row in report["coverage"]
        if any(n for status, n in row["seen"].items() if status.startswith("2"))
    }
    assert "GET /workflows" in reached
    assert (
        set(report["untested_operations"]) == {r["operation"] for r in report["coverage"]} - reached
    )
