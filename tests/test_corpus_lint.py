"""Every package generated from the corpus (and from Agno's document) passes our own lint:
`ruff check` and `mypy --strict` with the toolkit's configuration, and `create_app()` starts.

One ruff run and one mypy run over all packages at once keep this to about a minute; the large
document (GitHub's full API) is left to tests/test_corpus.py.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.codegen.output import write_package
from generator.codegen.pipeline import Options, generate_package
from generator.spec.errors import ContractError
from tests.conftest import REPO, SHARED

pytestmark = pytest.mark.slow

CORPUS = SHARED / "corpus"
AGNO = SHARED / "contracts" / "agno-agentos-3.1.10.json"
DOCUMENTS = [
    *sorted((CORPUS / "real").glob("*.json")),
    *sorted((CORPUS / "edge").rglob("*.yaml")),
    AGNO,
]
CONFIG = REPO / "pyproject.toml"
BIN = Path(sys.executable).parent

# Documents whose package still fails ruff or mypy, each with why; the test asserts they still
# fail, so an entry must be removed once its package passes. Keyed by path under ../shared.
KNOWN_LINT_FAILURES: dict[str, str] = {}


@dataclass(frozen=True)
class Linted:
    packages: dict[str, str]  # package name → document key
    refused: set[str]
    problems: dict[str, list[str]]  # package name → its ruff and mypy lines
    root: Path


def _key(document: Path) -> str:
    return document.relative_to(SHARED).as_posix()


def _package_of(line: str) -> str | None:
    found = re.match(r"(lint_\d+)[/\\]", line)
    return found.group(1) if found else None


@pytest.fixture(scope="module")
def linted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Linted]:
    root = tmp_path_factory.mktemp("corpus-lint")
    packages: dict[str, str] = {}
    refused: set[str] = set()
    for index, document in enumerate(DOCUMENTS):
        package = f"lint_{index}"  # not corpus_N: tests/test_corpus.py imports those
        options = Options(rename_duplicate_operation_ids=document == AGNO)
        try:
            files = generate_package(document, package, options=options)
        except ContractError:
            refused.add(_key(document))  # tests/test_corpus.py asserts why, word for word
            continue
        write_package(root / package, files)
        packages[package] = _key(document)
    names = sorted(packages)
    ruff = subprocess.run(  # noqa: S603 - fixed arguments
        [str(BIN / "ruff"), "check", "--config", str(CONFIG), "--no-cache"]
        + ["--output-format", "concise", *names],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    mypy = subprocess.run(  # noqa: S603 - fixed arguments
        [str(BIN / "mypy"), "--config-file", str(CONFIG), "--cache-dir", str(root / ".mypy_cache")]
        + names,
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    problems: dict[str, list[str]] = {}
    for line in (ruff.stdout + mypy.stdout).splitlines():
        owner = _package_of(line)
        if owner is not None:
            problems.setdefault(owner, []).append(line)
    assert ruff.returncode in (0, 1), ruff.stderr
    assert mypy.returncode in (0, 1), mypy.stderr
    sys.path.insert(0, str(root))
    yield Linted(packages, refused, problems, root)
    sys.path.remove(str(root))


def test_every_known_failure_is_a_corpus_document() -> None:
    assert set(KNOWN_LINT_FAILURES) <= {_key(document) for document in DOCUMENTS}


def test_every_package_passes_ruff_and_mypy_and_starts(linted: Linted) -> None:
    # One test, not one per document: under pytest-xdist a split would generate everything twice.
    failing = {linted.packages[name]: lines for name, lines in linted.problems.items()}
    unexpected = {key: lines for key, lines in failing.items() if key not in KNOWN_LINT_FAILURES}
    assert unexpected == {}
    now_clean = sorted(set(KNOWN_LINT_FAILURES) - set(failing) - linted.refused)
    assert now_clean == [], "lint-clean now: remove from KNOWN_LINT_FAILURES"
    importlib.invalidate_caches()
    for package in sorted(linted.packages):
        app = importlib.import_module(package).create_app()
        assert app.routes, linted.packages[package]
