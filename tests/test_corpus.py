"""Every document of the shared corpus: generate → import → create_app() → the routes round-trip.

A document the generator cannot support must be refused with one clear line, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.codegen.output import write_package
from generator.codegen.pipeline import generate_package
from generator.spec.errors import ContractError
from generator.spec.loader import load_spec
from tests.conftest import SHARED
from tests.support.roundtrip import app_surface, differences, spec_surface

CORPUS = SHARED / "corpus"
REAL = sorted((CORPUS / "real").glob("*.json"))
EDGE = sorted((CORPUS / "edge").rglob("*.yaml"))
LARGE = sorted((CORPUS / "large").glob("*.json.gz"))
# From this size on a document takes seconds (the compressed large/ ones, a minute): marked slow.
SLOW_BYTES = 200_000
# Documents we refuse, each for a reason a user can act on (asserted word for word below).
REFUSED = {
    "parameters-common.yaml": "path parameter {id} appears twice",
    "schema-validation-local.yaml": "Unknown JSON Schema dialect",
}


@pytest.fixture(scope="module")
def package_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("corpus")
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))


def _case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _case(path: Path) -> object:
    slow = path in LARGE or path.stat().st_size >= SLOW_BYTES
    return pytest.param(path, id=_case_id(path), marks=[pytest.mark.slow] if slow else [])


def _round_trip(document: Path, root: Path, index: int) -> list[str]:
    package = f"corpus_{index}"
    write_package(root / package, generate_package(document, package))
    importlib.invalidate_caches()
    module = importlib.import_module(package)
    app = module.create_app()
    return differences(spec_surface(load_spec(document).document), app_surface(app))


@pytest.mark.parametrize("document", [_case(path) for path in REAL + EDGE + LARGE])
def test_document_round_trips_or_is_refused_clearly(document: Path, package_root: Path) -> None:
    index = (REAL + EDGE + LARGE).index(document)
    if document.name in REFUSED:
        with pytest.raises(ContractError) as refused:
            _round_trip(document, package_root, index)
        lines = refused.value.lines()
        assert REFUSED[document.name] in lines[0]
        assert all("\n" not in line and "Traceback" not in line for line in lines)
        return
    assert _round_trip(document, package_root, index) == []


def test_at_least_95_percent_of_real_documents_are_supported() -> None:
    refused = [p for p in REAL if p.name in REFUSED]
    assert len(REAL) == 80
    assert (len(REAL) - len(refused)) / len(REAL) >= 0.95
