"""The generator's one entry point: spec file → the files of a generated package."""

from __future__ import annotations

import json
from pathlib import Path

from .loader import LoadedSpec, load_spec
from .modelgen import generate_models
from .names import pascal_case
from .parse import build_api
from .render import Renderer, format_python
from .validate import validate


def load_valid_spec(spec_path: Path) -> LoadedSpec:
    spec = load_spec(spec_path)
    validate(spec)
    return spec


def generate_package(spec_path: Path, package: str) -> dict[str, str]:
    """Every file of the package by relative name. Writes nothing; same input, same bytes."""
    spec = load_valid_spec(spec_path)
    renderer = Renderer(spec.name, spec.sha256)
    header = renderer.header()
    models = generate_models(spec.document, header)
    interface_name = pascal_case(package.rsplit(".", 1)[-1], fallback="Service") + "Api"
    api = build_api(spec, interface_name, models.class_for_schema)
    files = renderer.render_server(api)
    files["models.py"] = models.source
    files = format_python(files)
    files["openapi.json"] = json.dumps(spec.document, indent=2, ensure_ascii=False) + "\n"
    return dict(sorted(files.items()))
