"""The class of each schema is the one datamodel-code-generator gave it, never a guess from names.

`FooBar` and `foo_bar` both become class names spelled `FooBar`; the library writes `FooBar` and
`FooBar1`, and each response must be typed by the class of its own schema, on a fresh
generation and on one that reuses the previous models (an operation-only edit).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from generator.codegen import pipeline
from generator.codegen.modelgen import generate_models, schema_classes
from generator.codegen.output import write_package
from generator.codegen.pipeline import generate_package
from generator.codegen.render import format_python
from tests.conftest import REPO

SPEC = REPO / "tests" / "specs" / "colliding-schemas.yaml"
BIN = Path(sys.executable).parent

# Uses the response classes as a handler author would: mypy --strict fails if either body is
# typed by the other schema's class (`camel` is a str of FooBar, `snake` an int of foo_bar).
USES = """\
from {package}.responses import GetCamel200, GetSnake200


def camel(response: GetCamel200) -> str:
    return response.body.camel


def snake(response: GetSnake200) -> int:
    return response.body.snake
"""


def _body(models: Path) -> list[str]:
    """The module below its header comments (which name the spec and the package)."""
    return [line for line in models.read_text().splitlines() if not line.startswith("#")]


def _generate(root: Path, package: str, spec: Path, previous: Path | None = None) -> Path:
    out = root / package
    write_package(out, generate_package(spec, package, previous=previous))
    (root / f"uses_{package}.py").write_text(USES.format(package=package), encoding="utf-8")
    return out


def _import(root: Path, package: str) -> tuple[ModuleType, ModuleType]:
    sys.path.insert(0, str(root))
    try:
        importlib.invalidate_caches()
        return (
            importlib.import_module(f"{package}.models"),
            importlib.import_module(f"{package}.responses"),
        )
    finally:
        sys.path.remove(str(root))


def _assert_bodies(root: Path, package: str) -> None:
    models, responses = _import(root, package)
    camel = responses.GetCamel200.model_fields["body"].annotation
    snake = responses.GetSnake200.model_fields["body"].annotation
    assert camel is models.FooBar
    assert snake is models.FooBar1
    assert set(camel.model_fields) == {"camel"}
    assert set(snake.model_fields) == {"snake"}


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("colliding")
    fresh = _generate(root, "colliding_fresh", SPEC)
    # An operation-only edit: the models are reused, their classes read from the manifest.
    edited = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    edited["paths"]["/camel"]["get"]["summary"] = "Edited"
    spec = root / "edited.yaml"
    spec.write_text(yaml.safe_dump(edited, sort_keys=False), encoding="utf-8")
    reused = root / "colliding_reused"
    write_package(reused, generate_package(SPEC, "colliding_reused"))
    with pytest.MonkeyPatch.context() as patch:  # proof that the models are not made again

        def refuse(*_: object) -> None:
            raise AssertionError("models generated again for an operation-only edit")

        patch.setattr(pipeline, "start_models", refuse)
        _generate(root, "colliding_reused", spec, previous=reused)
    assert _body(reused / "models.py") == _body(fresh / "models.py")
    return root


def test_responses_are_typed_by_their_own_schemas_class(packages: Path) -> None:
    _assert_bodies(packages, "colliding_fresh")


def test_reused_models_keep_the_recorded_classes(packages: Path) -> None:
    _assert_bodies(packages, "colliding_reused")


def test_mypy_strict_accepts_each_body_as_its_own_schema(packages: Path) -> None:
    mypy = subprocess.run(  # noqa: S603 - fixed arguments
        [str(BIN / "mypy"), "--config-file", str(REPO / "pyproject.toml"), "--strict"]
        + ["--cache-dir", str(packages / ".mypy_cache")]
        + ["colliding_fresh", "colliding_reused", "uses_colliding_fresh.py"]
        + ["uses_colliding_reused.py"],
        cwd=packages,
        capture_output=True,
        text=True,
        check=False,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr


def test_mapping_is_read_from_the_metadata_by_pointer() -> None:
    metadata = {
        "models": [
            {"class_name": "FooBar", "source_path": ["components", "schemas", "FooBar"]},
            {"class_name": "FooBar1", "source_path": ["components", "schemas", "foo_bar"]},
            # a nested model is no schema's class
            {"class_name": "Kind", "source_path": ["components", "schemas", "Cat", "properties"]},
            # a class the module does not define is left out
            {"class_name": "Gone", "source_path": ["components", "schemas", "gone"]},
        ]
    }
    assert schema_classes(metadata, {"FooBar", "FooBar1", "Kind"}) == {
        "FooBar": "FooBar",
        "foo_bar": "FooBar1",
    }


def test_one_of_with_a_discriminator_is_a_pydantic_discriminated_union(tmp_path: Path) -> None:
    """datamodel-code-generator writes `Field(discriminator=...)` under our pinned options, and
    a child's tag is its parent's enum member (`use_enum_values_in_discriminator`), so the
    narrowing type-checks (spotify, azure: mypy override errors before)."""
    kind = {"type": "string", "enum": ["cat", "dog"]}
    schemas = {
        "Kind": kind,
        "Animal": {
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"$ref": "#/components/schemas/Kind"}},
            "discriminator": {"propertyName": "kind"},
        },
        "Cat": {"allOf": [{"$ref": "#/components/schemas/Animal"}, {"properties": {"meow": {}}}]},
        "Dog": {"allOf": [{"$ref": "#/components/schemas/Animal"}, {"properties": {"bark": {}}}]},
        "Pet": {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {"cat": "#/components/schemas/Cat", "dog": "#/components/schemas/Dog"},
            },
        },
    }
    document = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}
    models = generate_models({**document, "components": {"schemas": schemas}}, "# header")
    assert 'discriminator="kind"' in format_python({"m.py": models.source})["m.py"]
    assert "kind: Literal[Kind.cat]" in models.source
    (tmp_path / "pets_models.py").write_text(models.source, encoding="utf-8")
    mypy = subprocess.run(  # noqa: S603 - fixed arguments
        [str(BIN / "mypy"), "--config-file", str(REPO / "pyproject.toml"), "pets_models.py"]
        + ["--cache-dir", str(tmp_path / ".mypy_cache")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert mypy.returncode == 0, mypy.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("pets_models")
    finally:
        sys.path.remove(str(tmp_path))
    pet = module.Pet.model_validate({"kind": "dog", "bark": 1})
    assert type(pet.root) is module.Dog
