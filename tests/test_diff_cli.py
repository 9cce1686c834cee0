"""`contract diff` on the command line: exit codes, formats, files and git:REV:path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.cli import main

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = Path(sys.executable).parent / "contract"

OLD: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Runs", "version": "1.0.0"},
    "paths": {
        "/runs/{run_id}": {
            "get": {
                "operationId": "get_run",
                "parameters": [
                    {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
}


def write(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps(document))
    else:
        path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def with_operation(document: dict[str, Any], method: str) -> dict[str, Any]:
    result = json.loads(json.dumps(document))
    result["paths"]["/runs/{run_id}"][method] = {
        "operationId": f"{method}_run",
        "parameters": [
            {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "responses": {"204": {"description": "done"}},
    }
    return result


def without_path(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "paths": {}}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["diff", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_no_breaking_change_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = write(tmp_path / "old.yaml", OLD)
    new = write(tmp_path / "new.yaml", with_operation(OLD, "delete"))
    code, out, err = run(capsys, str(old), str(new))
    assert code == 0, err
    assert "[api-added]" in out
    assert out.rstrip().endswith("summary: 0 breaking, 1 non-breaking")


def test_identical_contracts_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = write(tmp_path / "old.yaml", OLD)
    code, out, _ = run(capsys, str(old), str(old))
    assert code == 0
    assert "summary: no changes" in out


def test_a_breaking_change_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = write(tmp_path / "old.yaml", OLD)
    new = write(tmp_path / "new.json", without_path(OLD))
    code, out, _ = run(capsys, str(old), str(new), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["summary"] == {"breaking": 1, "warn": 0, "non-breaking": 0}
    assert data["changes"][0]["id"] == "api-path-removed"


def with_pattern(document: dict[str, Any], pattern: str) -> dict[str, Any]:
    result = json.loads(json.dumps(document))
    parameter = result["paths"]["/runs/{run_id}"]["get"]["parameters"][0]
    parameter["schema"]["pattern"] = pattern
    return result


def test_a_warn_change_exits_0_by_default_and_1_with_fail_on_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One pattern replaced by another: whether old values still match, the spec cannot tell."""
    old = write(tmp_path / "old.yaml", with_pattern(OLD, "^run-"))
    new = write(tmp_path / "new.yaml", with_pattern(OLD, "^r[0-9]+$"))
    code, out, err = run(capsys, str(old), str(new))
    assert code == 0, err
    assert "[request-parameter-pattern-changed]" in out
    assert out.rstrip().endswith("summary: 0 breaking, 1 warn, 0 non-breaking")
    code, out, _ = run(capsys, str(old), str(new), "--fail-on", "warn", "--format", "json")
    assert code == 1
    assert json.loads(out)["summary"] == {"breaking": 0, "warn": 1, "non-breaking": 0}
    # a breaking change fails at either level; a non-breaking one at neither
    gone = write(tmp_path / "gone.yaml", without_path(OLD))
    assert run(capsys, str(old), str(gone), "--fail-on", "warn")[0] == 1
    added = write(tmp_path / "added.yaml", with_operation(OLD, "delete"))
    plain = write(tmp_path / "plain.yaml", OLD)
    assert run(capsys, str(plain), str(added), "--fail-on", "warn")[0] == 0


def test_an_unknown_fail_on_level_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = write(tmp_path / "old.yaml", OLD)
    with pytest.raises(SystemExit) as exited:
        main(["diff", str(old), str(old), "--fail-on", "info"])
    assert exited.value.code == 2
    assert "--fail-on" in capsys.readouterr().err


def test_markdown_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = write(tmp_path / "old.yaml", OLD)
    new = write(tmp_path / "new.yaml", without_path(OLD))
    code, out, _ = run(capsys, str(old), str(new), "--format", "markdown")
    assert code == 1
    assert out.startswith("### :x: API contract: 1 breaking change\n")
    assert "| **breaking** | `api-path-removed` | `GET /runs/{run_id}` |" in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("paths: [unclosed", "invalid YAML"),
        ("swagger: '2.0'\n", "Swagger 2.0 is not supported"),
        (
            "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n"
            "    $ref: 'https://example.com/x.yaml'\n",
            "remote $ref",
        ),
    ],
)
def test_an_unreadable_contract_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str
) -> None:
    good = write(tmp_path / "good.yaml", OLD)
    bad = tmp_path / "bad.yaml"
    if content is not None:
        bad.write_text(content)
    for argv in ((str(bad), str(good)), (str(good), str(bad))):
        code, out, err = run(capsys, *argv)
        assert code == 2
        assert out == ""
        assert len(err.splitlines()) == 1, err
        assert err.startswith(str(bad)) and expected in err


def without_a_description(document: dict[str, Any]) -> dict[str, Any]:
    """Still readable, no longer valid: a 200 response must have a description."""
    result = json.loads(json.dumps(document))
    del result["paths"]["/runs/{run_id}"]["get"]["responses"]["200"]["description"]
    return result


def test_an_invalid_new_contract_is_exit_2_not_a_green_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = write(tmp_path / "old.yaml", OLD)
    new = write(tmp_path / "new.yaml", without_a_description(OLD))
    code, out, err = run(capsys, str(old), str(new))
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert "/responses/200" in lines[0] and "description" in lines[0]
    assert lines[-1] == (
        f"{new}: not a valid OpenAPI document, so nothing was compared "
        "(fix it, or pass --allow-invalid to compare it anyway)"
    )


def test_allow_invalid_compares_and_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = write(tmp_path / "old.yaml", OLD)
    new = write(tmp_path / "new.yaml", without_a_description(OLD))
    code, out, err = run(capsys, str(old), str(new), "--allow-invalid")
    assert code in (0, 1)
    assert "summary:" in out
    assert err.startswith(f"warning: {new}#") and "description" in err


def test_an_invalid_old_contract_is_compared_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = write(tmp_path / "old.yaml", without_a_description(OLD))
    new = write(tmp_path / "new.yaml", OLD)
    code, out, err = run(capsys, str(old), str(new))
    assert code in (0, 1)
    assert "summary:" in out
    assert err.startswith(f"warning: {old}#")


def test_a_documentation_change_says_what_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = write(tmp_path / "old.yaml", OLD)
    edited = {**OLD, "info": {"title": "Runs API", "version": "1.0.0", "contact": {"name": "us"}}}
    new = write(tmp_path / "new.yaml", edited)
    code, out, _ = run(capsys, str(old), str(new))
    assert code == 0
    assert 'info: info changed: contact added, title "Runs" → "Runs API"\n' in out


def test_the_console_script_exits_like_main(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yaml", OLD)
    new = write(tmp_path / "new.yaml", without_path(OLD))
    command = [str(CONTRACT), "diff", str(old), str(new), "--format", "markdown"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 1, completed.stderr
    assert "`api-path-removed`" in completed.stdout
    bad = subprocess.run(
        [str(CONTRACT), "diff", str(old), str(new), "--format", "yaml"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2
    assert "invalid choice" in bad.stderr


# -- git:REV:path --------------------------------------------------------------------------------


def git(repo: Path, *argv: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *argv]
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    completed = subprocess.run(
        command, cwd=repo, capture_output=True, text=True, check=True, timeout=60, env=env
    )
    return completed.stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with spec/api.yaml committed once on `main`, the working copy changed."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root / "spec" / "api.yaml", OLD)
    git(root, "add", "spec/api.yaml")
    git(root, "commit", "-q", "-m", "spec")
    write(root / "spec" / "api.yaml", without_path(OLD))
    monkeypatch.chdir(root)
    return root


def test_git_rev_against_the_working_copy(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "git:HEAD:spec/api.yaml", "spec/api.yaml", "--format", "json")
    assert code == 1, err
    data = json.loads(out)
    assert data["old"] == "git:HEAD:spec/api.yaml"
    assert [c["id"] for c in data["changes"]] == ["api-path-removed"]


def test_git_on_both_sides_and_a_branch_name(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "commit", "-q", "-am", "drop the path")
    code, out, _ = run(capsys, "git:HEAD~1:spec/api.yaml", "git:main:spec/api.yaml")
    assert code == 1
    assert "[api-path-removed]" in out
    code, out, _ = run(capsys, "git:main:spec/api.yaml", "spec/api.yaml")
    assert code == 0
    assert "summary: no changes" in out


def test_git_path_relative_to_the_current_folder(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo / "spec")
    code, out, err = run(capsys, "git:HEAD:./api.yaml", "api.yaml")
    assert code == 1, err
    assert "[api-path-removed]" in out


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("git:nope:spec/api.yaml", "git:nope:spec/api.yaml: cannot read it from git: "),
        ("git:HEAD:spec/missing.yaml", "does not exist in 'HEAD'"),
        ("git:HEAD:spec", "'spec' at HEAD is a tree, expected a file"),
        ("git:HEAD", "expected git:REV:PATH"),
        ("git::spec/api.yaml", "expected git:REV:PATH"),
        ("git:--output=x:spec/api.yaml", "a git revision cannot start with '-'"),
    ],
)
def test_a_bad_git_source_exits_2_with_one_line(
    repo: Path, capsys: pytest.CaptureFixture[str], source: str, expected: str
) -> None:
    code, out, err = run(capsys, source, "spec/api.yaml")
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith(source) and expected in err
    assert not (repo / "x").exists()


def test_a_git_blob_goes_through_the_loader_and_names_the_source(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "spec" / "api.yaml").write_text("openapi: 3.1.0\npaths: [unclosed\n")
    git(repo, "commit", "-q", "-am", "break it")
    code, _, err = run(capsys, "git:HEAD:spec/api.yaml", "git:HEAD~1:spec/api.yaml")
    assert code == 2
    assert err.startswith("git:HEAD:spec/api.yaml:3:1: invalid YAML"), err
    assert tempfile.gettempdir() not in err


def test_a_git_blob_with_an_alias_bomb_is_refused(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["openapi: 3.1.0", 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 9):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    (repo / "spec" / "api.yaml").write_text("\n".join(lines) + "\n")
    git(repo, "commit", "-q", "-am", "bomb")
    code, _, err = run(capsys, "git:HEAD:spec/api.yaml", "git:HEAD~1:spec/api.yaml")
    assert code == 2
    assert "alias bomb" in err


def test_git_temporary_files_are_removed(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    code, _, _ = run(capsys, "git:HEAD:spec/api.yaml", "spec/api.yaml")
    assert code == 1
    assert list(scratch.iterdir()) == []


def test_outside_a_repository_git_sources_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.chdir(outside)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    code, out, err = run(capsys, "git:HEAD:api.yaml", "api.yaml")
    assert code == 2
    assert out == ""
    assert err.startswith("git:HEAD:api.yaml: cannot read it from git: ")
    assert "not a git repository" in err


def test_the_repository_contract_against_head() -> None:
    """The committed contract against the working copy: readable on both sides."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    completed = subprocess.run(
        [str(CONTRACT), "diff", "git:HEAD:spec/agentos.yaml", "spec/agentos.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr
    assert "summary:" in completed.stdout
