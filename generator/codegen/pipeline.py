"""The generator's one entry point: spec file → the files of a generated package."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from generator import __version__
from generator.codegen.modelgen import GeneratedModels, models_key, reuse_models, start_models
from generator.codegen.names import pascal_case
from generator.codegen.output import previous_file, with_manifest
from generator.codegen.parse import build_api
from generator.codegen.patterns import without_unusable_patterns
from generator.codegen.progress import QUIET, Progress
from generator.codegen.render import Renderer, format_python, runtime_file
from generator.spec.errors import Diagnostic
from generator.spec.loader import LoadedSpec, load_spec
from generator.spec.validate import validate


def generation_inputs(spec_path: Path, package: str) -> dict[str, str]:
    """Everything the output depends on; equal inputs give byte-identical packages."""
    digest = hashlib.sha256(spec_path.read_bytes()).hexdigest() if spec_path.is_file() else ""
    return {
        "generator": f"contract {__version__}",
        "generator_sha256": _generator_digest(),
        "spec": spec_path.name,
        "spec_sha256": digest,
        "package": package,
    }


# What generation reads besides the spec (the diff and the CLI are not part of it).
_GENERATION_SOURCES = ("__init__.py", "spec/*.py", "codegen/*.py", "templates/**/*.jinja")


@functools.cache
def _generator_digest() -> str:
    """The generator's own code and templates: a changed generator must not skip regeneration."""
    root = Path(__file__).parents[1]
    digest = hashlib.sha256()
    for path in sorted(path for pattern in _GENERATION_SOURCES for path in root.glob(pattern)):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


STAGES = 5


def generate_package(
    spec_path: Path,
    package: str,
    *,
    allow_remote_refs: bool = False,
    progress: Progress = QUIET,
    previous: Path | None = None,
    warn: Callable[[Diagnostic], None] | None = None,
) -> dict[str, str]:
    """Every file of the package by relative name. Writes nothing; same input, same bytes.

    Problems that cannot change the generated code (validate.HARMLESS) and patterns the server
    could not compile (dropped) are passed to `warn`, one located warning each.

    With `previous` (the output folder as it is), untouched models generated from the very same
    schemas are reused: changing an operation does not pay for the models again.
    """
    with progress.stage("reading the spec"):
        spec = load_spec(spec_path, allow_remote_refs=allow_remote_refs)
    usable, dropped = without_unusable_patterns(spec.document, str(spec.path))
    source = LoadedSpec(spec.path, usable, spec.sha256, spec.version) if dropped else spec
    renderer = Renderer(spec.name, spec.sha256, package)
    # Field descriptions are spec text kept on one line as data; ruff may not wrap strings.
    models_header = f"{renderer.header()}\n# ruff: noqa: E501"
    key = models_key(source.document, _generator_digest())
    cached = previous_file(previous, "models.py", key) if previous else None
    models_job: Callable[[], GeneratedModels]
    if cached is not None:
        models_job = functools.partial(reuse_models, cached, models_header, source.document)
    else:
        models_job = start_models(source.document, models_header)  # forks before progress threads
    with progress.stage("validating"):
        warnings = validate(spec, lenient=True) + dropped
    with progress.stage("generating models"):
        models = models_job()
    with progress.stage("rendering the server"):
        interface_name = pascal_case(package.rsplit(".", 1)[-1], fallback="Service") + "Api"
        api = build_api(source, interface_name, models.class_for_schema)
        files = renderer.render_server(api)
        files["models.py"] = models.source
    with progress.stage("formatting"):
        files = format_python(files)
    files["runtime.py"] = runtime_file()  # a copy, not rendered: the same bytes for every spec
    files["openapi.json"] = json.dumps(spec.document, indent=2, ensure_ascii=False) + "\n"
    if warn is not None:
        for warning in warnings:
            warn(warning)
    inputs = {**generation_inputs(spec_path, package), "models_sha256": key}
    return dict(sorted(with_manifest(files, inputs).items()))
