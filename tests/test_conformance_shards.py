"""`--shard K/N` splits the operations deterministically; `contract report merge` puts the shards'
report folders back together as the report of the whole API."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET  # noqa: S405 - our own report

import pytest

from generator.launch import contract_command
from generator.spec.loader import load_spec
from generator.spec.openapi import iter_operations
from tests.support.conform import broken_server, conform, run_conform
from tests.support.server import REPO

pytestmark = pytest.mark.slow


def operations_of(folder: Path) -> list[str]:
    report = json.loads((folder / "report.json").read_text("utf-8"))
    return [row["operation"] for row in report["coverage"]]


def merge(*folders: Path, out: Path) -> tuple[int, str, str]:
    """`contract report merge FOLDER... --out OUT`: exit code, stdout, stderr."""
    done = subprocess.run(
        [*contract_command(), "report", "merge", *map(str, folders), "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


def test_two_shards_of_our_spec_cover_it_once_and_merge_into_the_whole(tmp_path: Path) -> None:
    spec = load_spec(REPO / "spec" / "agentos.yaml").document
    every = sorted(f"{ref.method.upper()} {ref.path}" for ref in iter_operations(spec))
    shards = [tmp_path / "1", tmp_path / "2"]
    for number, folder in enumerate(shards, start=1):
        done = run_conform(
            "--shard", f"{number}/2", "--max-examples", "5", "--seed", "1", "--report", folder
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"shard: {number}/2" in done.stdout
    first, second = (set(operations_of(folder)) for folder in shards)
    assert first and second and not first & second
    assert sorted(first | second) == every
    # The same split every time: the operations by label, round-robin.
    assert sorted(first) == every[0::2]

    code, stdout, stderr = merge(*shards, out=tmp_path / "merged")
    assert code == 0, stdout + stderr
    assert sorted(operations_of(tmp_path / "merged")) == every
    merged = json.loads((tmp_path / "merged" / "report.json").read_text("utf-8"))
    one, two = (json.loads((f / "report.json").read_text("utf-8")) for f in shards)
    assert merged["requests"] == one["requests"] + two["requests"]
    assert merged["verdict"] == "CONFORMANT"
    suite = ET.fromstring((tmp_path / "merged" / "junit.xml").read_bytes())  # noqa: S314
    assert {case.get("classname") for case in suite.iter("testcase")} == set(every)


def test_merged_findings_are_the_shards_findings_and_a_missing_shard_is_an_error(
    tmp_path: Path,
) -> None:
    shards = [tmp_path / "1", tmp_path / "2"]
    with broken_server("undeclared_status") as url:
        for number, folder in enumerate(shards, start=1):
            outcome = conform(url, "--shard", f"{number}/2", report=folder)
            assert outcome.returncode == 1, outcome.stdout + outcome.stderr
    identities = set()
    for folder in shards:
        for finding in json.loads((folder / "report.json").read_text("utf-8"))["findings"]:
            identities.add((finding["operation"], finding["check"], finding["key"]))
    code, stdout, stderr = merge(*shards, out=tmp_path / "merged")
    assert code == 1, stdout + stderr
    merged = json.loads((tmp_path / "merged" / "report.json").read_text("utf-8"))
    assert {(f["operation"], f["check"], f["key"]) for f in merged["findings"]} == identities
    assert all("curl" in f for f in merged["findings"] if f.get("exchange"))
    assert "NOT CONFORMANT" in stdout

    code, stdout, stderr = merge(shards[0], out=tmp_path / "half")
    assert code == 1  # its findings; the missing shard is an error besides
    half = json.loads((tmp_path / "half" / "report.json").read_text("utf-8"))
    assert any("shards missing from the merge: 2/2" in e for e in half["errors"])


def test_merging_a_folder_without_a_report_is_one_line_exit_2(tmp_path: Path) -> None:
    code, stdout, stderr = merge(tmp_path, out=tmp_path / "merged")
    assert code == 2
    assert "report.json" in stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
