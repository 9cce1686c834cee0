"""What --report writes (report.md, report.json, junit.xml, report.html), from one run of a broken
server."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.support.conform import TOKEN, Outcome, broken_server, conform

# The module's tests read conformance runs against real servers (seconds each).
pytestmark = pytest.mark.slow

CANCEL = "POST /workflows/{workflow_id}/runs/{run_id}/cancel"
OPERATIONS = ("GET /workflows", "POST /workflows/{workflow_id}/runs", CANCEL)
CHECKS = 9  # the registered checks, request_timeout and response_limits


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    folder = tmp_path_factory.mktemp("report")
    with broken_server("schema_mismatch") as url:
        done = conform(url, report=folder, seed=77)
    assert done.returncode == 1, done.stdout + done.stderr
    return done


def test_all_four_reports_are_written_and_announced(outcome: Outcome) -> None:
    assert outcome.folder is not None
    assert sorted(p.name for p in outcome.folder.iterdir()) == [
        "junit.xml",
        "report.html",
        "report.json",
        "report.md",
    ]
    html = outcome.text("report.html")
    assert "NOT CONFORMANT: 2 findings" in html and html.count('<tr data-operation="') == 3
    listed = "junit.xml, report.md, report.json, report.html"
    assert f"reports in {outcome.folder}: {listed}" in outcome.stdout


def test_markdown_has_the_coverage_matrix_with_never_seen(outcome: Outcome) -> None:
    text = outcome.text("report.md")
    matrix = text.split("## Coverage matrix")[1].split("## Findings")[0]
    header = next(line for line in matrix.splitlines() if line.startswith("| operation"))
    assert header.split(" | ")[1:4] == ["200", "202", "400"]
    rows = {
        line.split(" | ")[0].strip("| `"): line
        for line in matrix.splitlines()
        if line.startswith("| `")
    }
    assert set(rows) == set(OPERATIONS)
    cancel = rows[CANCEL].split(" | ")
    columns = header.split(" | ")
    assert cancel[columns.index("400")] == "**never seen**"  # run-done is never pinned
    assert cancel[columns.index("202")] == ""  # not declared for cancel
    assert int(cancel[columns.index("200")]) > 0


def test_markdown_finding_has_check_curl_excerpt_and_seed(outcome: Outcome) -> None:
    text = outcome.text("report.md")
    finding = text.split("### 1. ")[1].split("### 2. ")[0]
    assert finding.startswith("`declared_schema`: Response body does not match the declared schema")
    assert "seed 77" in finding
    curl = next(line for line in finding.splitlines() if line.startswith("curl "))
    assert "-X POST" in curl
    assert '-H "Authorization: Bearer ${CONTRACT_TOKEN}"' in curl
    assert TOKEN not in text
    assert "Response: `404` `application/json`" in finding
    assert '{"message":' in finding  # the excerpt of the offending body


def test_json_report_matches_the_markdown(outcome: Outcome) -> None:
    report = outcome.report()
    assert report["verdict"] == "NOT CONFORMANT"
    assert report["exit_code"] == 1
    assert report["seed"] == 77
    assert "--seed 77" in report["reproduce"]
    coverage = {row["operation"]: row for row in report["coverage"]}
    assert set(coverage) == set(OPERATIONS)
    assert "400" in coverage[CANCEL]["never_seen"]
    assert coverage[CANCEL]["seen"]["404"] > 0
    checks = {f["check"] for f in report["findings"]}
    assert checks == {"declared_schema"}
    first = report["findings"][0]
    assert first["response"]["status"] == 404
    assert first["curl"].startswith("curl -sS -i -X POST")
    assert first["occurrences"] >= 1


def test_junit_has_a_testcase_per_operation_and_check(outcome: Outcome) -> None:
    root = ET.fromstring(outcome.text("junit.xml"))  # noqa: S314 - our own output
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(OPERATIONS) * CHECKS
    assert {c.get("classname") for c in cases} == set(OPERATIONS)
    failed = {(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None}
    assert failed == {
        (CANCEL, "declared_schema"),
        ("POST /workflows/{workflow_id}/runs", "declared_schema"),
    }
    assert suite.get("failures") == "2"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["seed"] == "77"


def test_terminal_summary_prints_the_matrix_and_the_findings(outcome: Outcome) -> None:
    assert "Coverage: responses seen per declared status" in outcome.stdout
    assert "never seen" in outcome.stdout
    assert "declared_schema" in outcome.stdout
    assert "NOT CONFORMANT: 2 findings" in outcome.stdout
    # Not a terminal: no progress bar, so no carriage returns in the output.
    assert "\r" not in outcome.stdout + outcome.stderr


def test_reports_of_a_clean_run_say_so(tmp_path: Path) -> None:
    with broken_server("good") as url:
        done = conform(url, report=tmp_path)
    assert done.returncode == 0
    assert "## Findings\n\nNone." in done.text("report.md")
    root = ET.fromstring(done.text("junit.xml"))  # noqa: S314 - our own output
    assert not list(root.iter("failure"))
    assert json.loads(done.text("report.json"))["findings"] == []
