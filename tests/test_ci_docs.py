"""docs/ci.md and its examples stay in step with the rules and the commands they describe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.diff.rules import REQUEST_SUBJECTS, RESPONSE_SUBJECTS, RULES, SCHEMA_ASPECTS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
COMMANDS = ("contract validate", "contract check", "contract diff git:origin/", "contract conform")


def _schema_rule_ids() -> set[str]:
    ids = set()
    for aspect, request_level, response_level, _ in SCHEMA_ASPECTS:
        for subjects, level in (
            (REQUEST_SUBJECTS, request_level),
            (RESPONSE_SUBJECTS, response_level),
        ):
            if level is not None:
                ids.update(f"{subject}-{aspect}" for subject in subjects)
    return ids


def test_every_rule_is_documented_with_its_level() -> None:
    text = (DOCS / "ci.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z-]+)` \| ([a-z-]+) \|", text, flags=re.MULTILINE))
    schema_ids = _schema_rule_ids()
    for rule_id, rule in RULES.items():
        if rule_id not in schema_ids:
            assert rows.get(rule_id) == rule.level, rule_id
    aspects = re.findall(r"^\| `-([a-z-]+)` \| ([a-z—-]+) \| ([a-z—-]+) \|", text, re.MULTILINE)
    documented = {aspect: (request, response) for aspect, request, response in aspects}
    for aspect, request_level, response_level, _ in SCHEMA_ASPECTS:
        assert documented.get(aspect) == (request_level or "—", response_level or "—"), aspect


def _load(name: str) -> Any:
    return yaml.safe_load((DOCS / "examples" / name).read_text(encoding="utf-8"))


def test_the_workflow_runs_the_four_checks() -> None:
    workflow = _load("contract-ci.yml")
    steps = workflow["jobs"]["contract"]["steps"]
    scripts = "\n".join(step.get("run", "") for step in steps)
    for command in COMMANDS:
        assert command in scripts.replace('"git:origin/', "git:origin/"), command
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0


def test_the_pre_commit_hooks_run_the_four_checks() -> None:
    config = _load("pre-commit-config.yaml")
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    entries = [hook["entry"] for hook in hooks]
    for command in COMMANDS:
        assert any(entry.startswith(command) for entry in entries), command
    assert all(hook["pass_filenames"] is False for hook in hooks)


@pytest.mark.parametrize("target", ["check", "diff"])
def test_make_test_runs_the_contract_checks(target: str) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    prerequisites = re.search(r"^test:(.*)$", makefile, re.MULTILINE)
    assert prerequisites is not None
    assert target in prerequisites.group(1).split()
    assert "contract diff git:HEAD:spec/agentos.yaml spec/agentos.yaml" in makefile


def test_the_workflow_and_the_doc_show_the_conformance_gates() -> None:
    workflow = _load("contract-ci.yml")
    steps = workflow["jobs"]["contract"]["steps"]
    conform = next(step["run"] for step in steps if "contract conform" in step.get("run", ""))
    for flag in ("--baseline", "--fail-under"):
        assert flag in conform, flag
    text = (DOCS / "ci.md").read_text(encoding="utf-8")
    for flag in ("--baseline FILE", "--write-baseline FILE", "--fail-under PCT", "stable_key"):
        assert flag in text, flag


def test_the_workflow_shards_the_conformance_run_and_merges_the_reports() -> None:
    jobs = _load("contract-ci.yml")["jobs"]
    shards = jobs["conform-shards"]
    assert shards["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    scripts = "\n".join(step.get("run", "") for step in shards["steps"])
    assert "--shard ${{ matrix.shard }}/4" in scripts
    merge = "\n".join(step.get("run", "") for step in jobs["conform-merge"]["steps"])
    assert "contract report merge" in merge
    assert all(f"conformance-report-{k}" in merge for k in range(1, 5))
    assert jobs["conform-merge"]["needs"] == "conform-shards"
