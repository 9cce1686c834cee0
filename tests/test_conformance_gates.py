"""CI gates: the conformance score, `--fail-under`, and `--baseline` / `--write-baseline`.

A baseline written by a run with seed 1 holds every finding of a rerun with seed 2 against the
same broken server (exit 0); a finding of another kind still fails (exit 1).
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET  # noqa: S405 - our own report

import pytest

from conformance.gates import BASELINE_FORMAT, read_baseline, stable_key
from conformance.options import parse_shard
from conformance.results import Finding
from generator.spec.errors import UsageError
from tests.support.conform import broken_server, conform
from tests.support.outcomes import ConformOutcomes


def finding(code: str, key: str) -> Finding:
    return Finding(
        check="c",
        operation="GET /workflows",
        title="t",
        message="m",
        severity="high",
        code=code,
        key=key,
        phase="fuzzing",
        exchange=None,
    )


def test_the_stable_key_leaves_out_the_example() -> None:
    assert stable_key(finding("CT101", "409")) == "CT101 GET /workflows 409"
    # Which schema path failed first, which parameter was negated: the example's, not the bug's.
    schema = finding("CT103", "200:JsonSchemaError:x-bundled/schema000001/properties/name/type")
    assert stable_key(schema) == "CT103 GET /workflows 200:JsonSchemaError"
    accepted = finding("CT109", "ParameterLocation.QUERY:limit")
    assert stable_key(accepted) == "CT109 GET /workflows"


def test_a_file_that_is_not_a_baseline_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    for text in ("{", "[]", json.dumps({"format": "other", "findings": []})):
        path.write_text(text, "utf-8")
        with pytest.raises(UsageError, match="--baseline"):
            read_baseline(path)
    path.write_text(json.dumps({"format": BASELINE_FORMAT, "findings": [1]}), "utf-8")
    with pytest.raises(UsageError, match="list of keys"):
        read_baseline(path)
    with pytest.raises(UsageError, match="cannot read"):
        read_baseline(tmp_path / "missing.json")


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0", "-1/2"])
def test_a_bad_shard_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        parse_shard(text)


@pytest.mark.slow
def test_a_baseline_holds_the_findings_of_a_rerun_with_another_seed(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    with broken_server("undeclared_status") as url:
        first = conform(url, "--write-baseline", str(baseline), seed=1, report=tmp_path / "one")
        again = conform(url, "--baseline", str(baseline), seed=2, report=tmp_path / "two")
    assert first.returncode == 1, first.stdout + first.stderr
    keys = json.loads(baseline.read_text("utf-8"))["findings"]
    assert "CT101 POST /workflows/{workflow_id}/runs/{run_id}/cancel 403" in keys
    assert again.returncode == 0, again.stdout + again.stderr
    report = again.report()
    assert report["findings"] and all(f["known"] for f in report["findings"])
    assert report["new_findings"] == 0
    assert report["verdict"] == "NO NEW FINDINGS"
    # The seed changed what was sent: the rerun is a different run, not a replay.
    assert again.report()["seed"] == 2
    suite = ET.fromstring(again.text("junit.xml").encode("utf-8"))  # noqa: S314
    assert suite.findall(".//failure") == []


@pytest.mark.slow
def test_a_new_kind_of_finding_fails_despite_the_baseline(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    with broken_server("undeclared_status") as url:
        conform(url, "--write-baseline", str(baseline), seed=1)
    with broken_server("schema_mismatch") as url:
        outcome = conform(url, "--baseline", str(baseline), seed=2, report=tmp_path / "report")
    assert outcome.returncode == 1, outcome.stdout + outcome.stderr
    new = [f for f in outcome.report()["findings"] if not f["known"]]
    assert {f["check"] for f in new} == {"declared_schema"}
    assert outcome.report()["new_findings"] == len(new)
    assert "NOT CONFORMANT" in outcome.stdout


@pytest.mark.slow
def test_the_score_is_in_the_summary_and_the_report(conform_outcomes: ConformOutcomes) -> None:
    outcome = conform_outcomes.get("good", max_examples=20)
    report = outcome.report()
    declared = [k for row in report["coverage"] for k in row["declared"] if k != "default"]
    exercised = [
        k
        for row in report["coverage"]
        for k in row["declared"]
        if k != "default" and row["seen"][k]
    ]
    statuses = report["score"]["declared_statuses_exercised"]
    assert (statuses["count"], statuses["of"]) == (len(exercised), len(declared))
    assert 0 < statuses["count"] < statuses["of"]  # the good server never answers 500
    operations = report["score"]["operations_passing_every_check"]
    assert operations == {"count": 3, "of": 3, "percent": 100.0}
    assert f"declared statuses exercised {statuses['count']}/{statuses['of']}" in outcome.stdout


@pytest.mark.slow
def test_fail_under_fails_a_run_below_the_bar_only(conform_outcomes: ConformOutcomes) -> None:
    good = conform_outcomes.get("good", max_examples=20)
    percent = good.report()["score"]["declared_statuses_exercised"]["percent"]
    under = conform_outcomes.get("good", "--fail-under", f"{percent + 1:g}", max_examples=20)
    assert under.returncode == 1, under.stdout + under.stderr
    assert under.report()["findings"] == []
    assert under.report()["gate_failures"]
    assert "--fail-under" in under.stdout
    over = conform_outcomes.get("good", "--fail-under", f"{percent - 1:g}", max_examples=20)
    assert over.returncode == 0, over.stdout + over.stderr
