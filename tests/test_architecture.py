"""The import rules of ARCHITECTURE.md are enforced by import-linter, and they do fail a build."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("generator", "conformance", "reference", "generated")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the packages and pyproject.toml, to break on purpose."""
    for package in PACKAGES:
        shutil.copytree(
            REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_as_committed_keeps_every_contract(tree: Path) -> None:
    done = lint_imports(tree)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "statement", "broken"),
    [
        (
            "conformance/results.py",
            "import reference.app",
            "conformance is not allowed to import reference",
        ),
        (
            "conformance/results.py",
            "from generator.codegen import render",
            "conformance is not allowed to import generator.codegen",
        ),
        (
            "generator/spec/loader.py",
            "import generator.diff.rules",
            "generator.spec is not allowed to import generator.diff",
        ),
        (
            "generator/terminal/console.py",
            "import generator.spec.errors",
            "generator.terminal is not allowed to import generator.spec",
        ),
        (
            "reference/store.py",
            "import generator.spec.errors",
            "reference is not allowed to import generator",
        ),
        (
            "generated/agentos/models.py",
            "import reference.store",
            "generated is not allowed to import reference",
        ),
        (
            "generator/mock/plan.py",
            "import conformance.checks",
            "generator.mock is not allowed to import conformance",
        ),
        (
            "conformance/proxy/judge.py",
            "import generator.mock.plan",
            "conformance is not allowed to import generator.mock",
        ),
    ],
)
def test_a_forbidden_import_breaks_the_build(
    tree: Path, module: str, statement: str, broken: str
) -> None:
    with (tree / module).open("a", encoding="utf-8") as source:
        source.write(f"\n{statement}  # a deliberate violation\n")
    done = lint_imports(tree)
    assert done.returncode == 1, done.stdout + done.stderr
    assert broken in done.stdout
