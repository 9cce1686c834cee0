"""`contract validate`: one actionable line per problem and the exit codes DESIGN.md fixes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, SHARED, run_contract

SEED = SHARED / "contracts" / "agentos-cancel-workflow-run.yaml"


def _write(tmp_path: Path, name: str, content: str | dict) -> Path:  # type: ignore[type-arg]
    path = tmp_path / name
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def _seed() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(SEED.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_project_spec_is_valid() -> None:
    result = run_contract("validate", REPO / "spec" / "agentos.yaml")
    assert result.returncode == 0, result.stderr
    assert "valid OpenAPI 3.1.0" in result.stdout


def test_default_spec_comes_from_pyproject() -> None:
    result = run_contract("validate")
    assert result.returncode == 0, result.stderr
    assert "agentos.yaml" in result.stdout


def test_every_problem_is_one_line_with_file_and_pointer(tmp_path: Path) -> None:
    doc = _seed()
    operation = doc["paths"]["/workflows/{workflow_id}/runs/{run_id}/cancel"]["post"]
    del operation["responses"]["404"]["description"]
    operation["parameters"][1]["in"] = "body"
    spec = _write(tmp_path, "broken.yaml", doc)
    result = run_contract("validate", spec)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) >= 2
    assert "Traceback" not in result.stderr
    base = "#/paths/~1workflows~1{workflow_id}~1runs~1{run_id}~1cancel/post"
    assert any(
        f"broken.yaml{base}/responses/404: " in line and "description" in line for line in lines
    )
    assert any(f"broken.yaml{base}/parameters/1" in line for line in lines)


def test_dangling_ref_names_its_pointer(tmp_path: Path) -> None:
    doc = _seed()
    doc["components"]["schemas"].pop("NotFoundResponse")
    result = run_contract("validate", _write(tmp_path, "dangling.yaml", doc))
    assert result.returncode == 1
    assert "responses/404/content/application~1json/schema" in result.stderr
    assert "'#/components/schemas/NotFoundResponse' points at nothing" in result.stderr


def test_a_ref_to_a_missing_file_says_so_without_errno(tmp_path: Path) -> None:
    spec = _write(
        tmp_path,
        "refs.yaml",
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    $ref: ./gone.yaml\n",
    )
    result = run_contract("validate", spec)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"{spec}#/paths/~1a: $ref './gone.yaml': no such file gone.yaml"
    ]


def test_debug_is_accepted_after_the_command_too(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    before = run_contract("--debug", "validate", missing)
    after = run_contract("validate", missing, "--debug")
    assert before.returncode == after.returncode == 2
    assert after.stderr == before.stderr == f"{missing}: no such file\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.yaml", None, "no such file"),
        ("empty.yaml", "", "the file is empty"),
        ("list.yaml", "- a\n- b\n", "expected an OpenAPI document"),
        ("plain.yaml", "title: not an api\n", "not an OpenAPI 3.x document"),
        ("swagger.yaml", "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n", "convert"),
        ("broken.yaml", "openapi: 3.1.0\ninfo: [\n", "invalid YAML"),
        ("broken.json", '{"openapi": "3.1.0",', "invalid JSON"),
        ("python.yaml", "openapi: !!python/object/apply:os.system ['true']\n", "invalid YAML"),
        ("future.yaml", "openapi: 3.3.0\ninfo: {title: t, version: '1'}\n", "not supported"),
    ],
)
def test_unreadable_or_not_openapi_exits_2(
    tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = run_contract("validate", path)
    assert result.returncode == 2, result
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "image.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    result = run_contract("validate", path)
    assert result.returncode == 2
    assert "binary file" in result.stderr


def test_openapi_30_and_json_are_accepted(tmp_path: Path) -> None:
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }
    path = tmp_path / "small.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = run_contract("validate", path)
    assert result.returncode == 0, result.stderr
    assert "valid OpenAPI 3.0.3" in result.stdout


def test_alias_bomb_is_refused_without_expanding(tmp_path: Path) -> None:
    lines = ["openapi: 3.1.0", 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 9):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    path = _write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    result = run_contract("validate", path)
    assert result.returncode == 2
    assert "alias bomb" in result.stderr
