"""`contract validate` and `contract check` with `--format json`: one object on stdout, always."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from tests.conftest import REPO, SHARED, run_contract

SEED = SHARED / "contracts" / "agentos-cancel-workflow-run.yaml"


def _broken(tmp_path: Path) -> Path:
    doc = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    del doc["paths"]["/workflows/{workflow_id}/runs/{run_id}/cancel"]["post"]["responses"]["404"][
        "description"
    ]
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_validate_json_of_a_valid_spec() -> None:
    done = run_contract("validate", REPO / "spec" / "agentos.yaml", "--format", "json")
    assert done.returncode == 0 and done.stderr == ""
    data = json.loads(done.stdout)
    assert data["valid"] is True and data["exit_code"] == 0 and data["openapi"] == "3.1.0"
    assert data["problems"] == []


def test_validate_json_of_an_invalid_and_an_unreadable_spec(tmp_path: Path) -> None:
    done = run_contract("validate", _broken(tmp_path), "--format", "json")
    assert done.returncode == 1 and done.stderr == ""
    data = json.loads(done.stdout)
    assert data["valid"] is False and data["exit_code"] == 1
    problem = next(p for p in data["problems"] if p["pointer"].endswith("/responses/404"))
    assert problem["file"].endswith("broken.yaml") and "description" in problem["message"]
    assert set(problem) == {"file", "pointer", "message", "hint", "level"}
    missing = run_contract("validate", tmp_path / "nope.yaml", "--format", "json")
    assert missing.returncode == 2
    unreadable = json.loads(missing.stdout)
    assert unreadable["exit_code"] == 2 and unreadable["problems"][0]["message"]


def test_check_json_fresh_stale_and_invalid(tmp_path: Path) -> None:
    fresh = run_contract("check", "--format", "json")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert json.loads(fresh.stdout)["up_to_date"] is True
    out = tmp_path / "pkg"
    shutil.copytree(REPO / "generated" / "agentos", out)
    (out / "api.py").write_text("# edited\n", encoding="utf-8")
    (out / "models.py").unlink()
    stale = run_contract(
        "check",
        REPO / "spec" / "agentos.yaml",
        "--out",
        out,
        "--package",
        "generated.agentos",
        "--format",
        "json",
    )
    assert stale.returncode == 1 and stale.stderr == ""
    data = json.loads(stale.stdout)
    assert data["up_to_date"] is False and data["exit_code"] == 1
    assert data["changed"] == ["api.py"] and data["missing"] == ["models.py"]
    assert any(line.startswith("-# edited") for line in data["diff"])
    invalid = run_contract("check", _broken(tmp_path), "--out", out, "--format", "json")
    assert invalid.returncode == 1
    assert json.loads(invalid.stdout)["problems"]
