"""Pydantic v2 models through datamodel-code-generator's Python API, with pinned options."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from datamodel_code_generator import generate
from datamodel_code_generator.enums import DataModelType, InputFileType
from datamodel_code_generator.format import PythonVersion

from .errors import UnsupportedSpec
from .names import pascal_case

# Pinned so that the same spec always gives the same models, whatever the library's defaults become.
_OPTIONS: dict[str, Any] = {
    "input_file_type": InputFileType.OpenAPI,
    "output_model_type": DataModelType.PydanticV2BaseModel,
    "target_python_version": PythonVersion.PY_311,
    "disable_timestamp": True,
    "allow_remote_refs": False,
    "use_annotated": True,
    "field_constraints": True,
    "use_double_quotes": True,
    "use_standard_collections": True,
    "use_union_operator": True,
    "use_schema_description": True,
    "formatters": [],  # the renderer formats every file with ruff in one pass
}


@dataclass(frozen=True, slots=True)
class GeneratedModels:
    source: str
    # components/schemas name → the class that models it
    class_for_schema: dict[str, str]


def generate_models(document: dict[str, Any], header: str) -> GeneratedModels:
    schemas = (document.get("components") or {}).get("schemas") or {}
    if not schemas:
        return GeneratedModels(source=f"{header}\n", class_for_schema={})
    try:
        source = generate(document, custom_file_header=header, **_OPTIONS)
    except Exception as exc:  # the library raises many types; the user needs one line
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnsupportedSpec(f"models could not be generated: {first_line}") from exc
    if not isinstance(source, str):
        raise UnsupportedSpec("models could not be generated as a single module")
    classes = _defined_names(source)
    return GeneratedModels(source=source, class_for_schema=_match_schemas(schemas, classes))


def _defined_names(source: str) -> set[str]:
    tree = ast.parse(source)
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _match_schemas(schemas: dict[str, Any], classes: set[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for name in schemas:
        for candidate in (name, pascal_case(name), _title_case(name)):
            if candidate in classes:
                result[name] = candidate
                break
    return result


def _title_case(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else " " for ch in name)
    return "".join(part[:1].upper() + part[1:] for part in cleaned.split())
