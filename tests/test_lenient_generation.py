"""Issue 13 item 5: a document invalid only where the generated code cannot tell is generated.

`contract validate` still refuses it (exit 1); `generate` and `check` print one located warning
per problem instead. A `pattern` the server could not compile is dropped, never a failed import.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.codegen.output import write_package
from generator.codegen.patterns import unusable_pattern, without_unusable_patterns
from generator.codegen.pipeline import generate_package
from generator.spec.errors import ContractError, Diagnostic
from tests.conftest import SHARED, run_contract

SPECS = Path(__file__).parent / "specs"
LENIENT = SPECS / "lenient.yaml"
SAGEMAKER = SHARED / "corpus" / "real" / "amazonaws.com__runtime.sagemaker.json"
# `pattern` strings the validator's (ECMA) regex engine rejects; test_corpus generates it.
SCHEMA_VALIDATION = SHARED / "corpus" / "edge" / "3.0" / "schema-validation.yaml"


@pytest.fixture()
def importable(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))


def _generate(spec: Path, root: Path, package: str) -> list[Diagnostic]:
    warnings: list[Diagnostic] = []
    write_package(root / package, generate_package(spec, package, warn=warnings.append))
    importlib.invalidate_caches()
    importlib.import_module(package).create_app()
    return warnings


def test_harmless_problems_are_warnings_and_the_app_builds(importable: Path) -> None:
    warnings = [str(w) for w in _generate(LENIENT, importable, "lenient_pkg")]
    assert all(w.startswith(f"warning: {LENIENT}#/") for w in warnings)
    located = {w.split("#", 1)[1].split(":", 1)[0] for w in warnings}
    assert {
        "/paths/~1items/get/parameters/0",  # examples: a list where a map belongs
        "/paths/~1items/get/responses/200",  # an Example object that is a bare string
        "/components/schemas/Item",  # examples in a 3.0 schema, and the duplicate below
        "/components/schemas/Item/required",  # [id, id, name]
        "/components/schemas/Code/pattern",  # too large for pydantic-core's regex engine
        "/components/schemas/Printable/pattern",  # \p{Print}: neither engine compiles it
    } <= located
    assert any("pattern dropped" in w and "size limit" in w for w in warnings)


def test_validate_still_refuses_them() -> None:
    for spec in (LENIENT, SAGEMAKER, SCHEMA_VALIDATION):
        result = run_contract("validate", spec)
        assert result.returncode == 1, result.stderr


def test_generate_prints_located_warnings(tmp_path: Path) -> None:
    out = tmp_path / "lenient_cli"
    result = run_contract("generate", LENIENT, "--out", out, "--package", "lenient_cli")
    assert result.returncode == 0, result.stderr
    assert f"warning: {LENIENT}#/components/schemas/Item/required:" in result.stderr
    check = run_contract("check", LENIENT, "--out", out, "--package", "lenient_cli")
    assert check.returncode == 0, check.stderr
    assert "warning: " in check.stderr


def test_other_errors_still_refuse_generation(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text(LENIENT.read_text().replace("in: query", "in: nowhere"))
    with pytest.raises(ContractError) as refused:
        generate_package(spec, "broken")
    assert "/paths/~1items/get/parameters/0" in refused.value.lines()[0]


def test_real_sagemaker_document_generates(importable: Path) -> None:
    warnings = _generate(SAGEMAKER, importable, "sagemaker_pkg")
    assert any(w.pointer.endswith("/pattern") and "dropped" in w.message for w in warnings)


@pytest.mark.parametrize(
    ("pattern", "usable"),
    [
        ("^[a-z]+$", True),
        (r"^(?!\s)(.*)(\S)$", True),  # lookaround: the models switch to python-re
        ("^(?:a{1000}){1000}$", False),  # exceeds the Rust engine's size limit
        (r"\A\S[\p{Print}]*\z", False),  # no Python regex either
    ],
)
def test_unusable_patterns(pattern: str, usable: bool) -> None:
    assert (unusable_pattern(pattern) == "") is usable


def test_a_scalar_default_of_the_wrong_type_is_dropped_with_a_warning() -> None:
    schemas = {
        "Flags": {
            "type": "object",
            "properties": {
                "on": {"type": "boolean", "default": "false"},
                "count": {"type": "integer", "default": True},
                "ratio": {"type": "number", "default": 1},
                "name": {"type": "string", "default": "x"},
                "default": {"type": "string"},  # a property called "default" is no default
            },
        }
    }
    document = {"openapi": "3.0.3", "components": {"schemas": schemas}}
    cleaned, warnings = without_unusable_patterns(document, "spec.yaml")
    properties = cleaned["components"]["schemas"]["Flags"]["properties"]
    assert "default" not in properties["on"] and "default" not in properties["count"]
    assert properties["ratio"]["default"] == 1 and properties["name"]["default"] == "x"
    assert "default" in properties
    assert [w.pointer for w in warnings] == [
        "/components/schemas/Flags/properties/on/default",
        "/components/schemas/Flags/properties/count/default",
    ]
    assert warnings[0].message == 'default dropped: "false" is no boolean'


def test_an_enum_default_that_is_no_value_is_dropped_with_a_warning() -> None:
    # visma.com: the default names the member (`x-enumNames`), not its value.
    schemas = {
        "Category": {
            "type": "string",
            "enum": ["Project", "User"],
            "x-enumNames": ["Case", "User"],
        },
        "Level": {"type": "integer", "enum": [1, 2]},
        "Keyword": {
            "type": "object",
            "properties": {
                "category": {"$ref": "#/components/schemas/Category", "default": "Case"},
                "other": {"$ref": "#/components/schemas/Category", "default": "User"},
                "inline": {"type": "string", "enum": ["a", "b"], "default": "c"},
                "level": {"$ref": "#/components/schemas/Level", "default": True},
                "fine": {"$ref": "#/components/schemas/Level", "default": 2},
            },
        },
    }
    document = {"openapi": "3.0.3", "components": {"schemas": schemas}}
    cleaned, warnings = without_unusable_patterns(document, "spec.yaml")
    properties = cleaned["components"]["schemas"]["Keyword"]["properties"]
    assert properties["other"]["default"] == "User" and properties["fine"]["default"] == 2
    assert [w.pointer for w in warnings] == [
        f"/components/schemas/Keyword/properties/{name}/default"
        for name in ("category", "inline", "level")
    ]
    assert warnings[0].message == 'default dropped: "Case" is none of the enum\'s values'
    assert all("default" not in properties[n] for n in ("category", "inline", "level"))
