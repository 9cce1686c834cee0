"""The generator's one entry point: spec file → the files of a generated package."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator import __version__
from generator.codegen.inline_bodies import hoist_inline_bodies
from generator.codegen.modelgen import GeneratedModels, models_key, reuse_models, start_models
from generator.codegen.names import pascal_case
from generator.codegen.output import previous_models, with_manifest
from generator.codegen.parse import build_api
from generator.codegen.patterns import without_unusable_patterns
from generator.codegen.render import Renderer, format_python, runtime_file
from generator.spec.errors import Diagnostic, InvalidSpec
from generator.spec.loader import LoadedSpec, load_spec
from generator.spec.operation_ids import rename_duplicates, with_hint
from generator.spec.validate import validate
from generator.terminal.progress import QUIET, Progress


@dataclass(frozen=True, slots=True)
class Options:
    """How to read a spec that breaks a rule generation can work around, when asked to."""

    # Later uses of an operationId get `_2`, `_3`…; by default a duplicate is an error.
    rename_duplicate_operation_ids: bool = False


def generation_inputs(
    spec_path: Path, package: str, options: Options = Options()
) -> dict[str, str]:
    """Everything the output depends on; equal inputs give byte-identical packages."""
    digest = hashlib.sha256(spec_path.read_bytes()).hexdigest() if spec_path.is_file() else ""
    return {
        "generator": f"contract {__version__}",
        "generator_sha256": _generator_digest(),
        "spec": spec_path.name,
        "spec_sha256": digest,
        "package": package,
        "rename_duplicate_operation_ids": str(options.rename_duplicate_operation_ids).lower(),
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
    options: Options = Options(),
    warn: Callable[[Diagnostic], None] = lambda _: None,
) -> dict[str, str]:
    """Every file of the package by relative name. Writes nothing; same input, same bytes.

    `warn` hears, one located warning each, of every change made to the document on the way
    (duplicate operationIds renamed, see `options`; patterns the server could not compile,
    dropped) and of the problems that cannot change the generated code (validate.HARMLESS).

    With `previous` (the output folder as it is), untouched models generated from the very same
    schemas are reused: changing an operation does not pay for the models again.
    """
    with progress.stage("reading the spec"):
        spec = _read(spec_path, allow_remote_refs, options, warn)
    usable, dropped = without_unusable_patterns(spec.document, str(spec.path))
    source = LoadedSpec(spec.path, usable, spec.sha256, spec.version) if dropped else spec
    renderer = Renderer(spec.name, spec.sha256, package)
    # Field descriptions are spec text kept on one line as data; ruff may not wrap strings. The
    # security rules read spec data as code: an enum value "ACCESS_TOKEN" is no password (S105),
    # an example "/tmp/x" no temporary file (S108), a default "0.0.0.0" no socket (S104); and a
    # property the spec names `l` keeps its name (E741). A string enum whose values are written
    # as numbers (`enum: [2, 4]`, `type: string`) is a `(str, Enum)`, which makes them "2" and
    # "4"; a StrEnum would refuse them (UP042).
    models_header = f"{renderer.header()}\n# ruff: noqa: E501, E741, S104, S105, S108, UP042"
    models_document, hoisted = hoist_inline_bodies(source.document)
    key = models_key(models_document, _generator_digest())
    cached = previous_models(previous, key) if previous else None
    models_job: Callable[[], GeneratedModels]
    if cached is not None:
        models_job = functools.partial(reuse_models, cached[0], models_header, cached[1])
    else:
        models_job = start_models(models_document, models_header)  # forks before progress threads
    with progress.stage("validating"):
        warnings = _validate(spec) + dropped
    with progress.stage("generating models"):
        models = models_job()
    with progress.stage("rendering the server"):
        interface_name = pascal_case(package.rsplit(".", 1)[-1], fallback="Service") + "Api"
        api = build_api(source, interface_name, models.class_for_schema, hoisted)
        files = renderer.render_server(api)
        files["models.py"] = models.source
    with progress.stage("formatting"):
        files = format_python(files)
    files["runtime.py"] = runtime_file()  # a copy, not rendered: the same bytes for every spec
    files["openapi.json"] = json.dumps(spec.document, indent=2, ensure_ascii=False) + "\n"
    for warning in warnings:
        warn(warning)
    inputs = {**generation_inputs(spec_path, package, options), "models_sha256": key}
    return dict(sorted(with_manifest(files, inputs, models.class_for_schema).items()))


def _read(
    spec_path: Path, allow_remote_refs: bool, options: Options, warn: Callable[[Diagnostic], None]
) -> LoadedSpec:
    """The spec as generation sees it: duplicate operationIds renamed before any name is made."""
    spec = load_spec(spec_path, allow_remote_refs=allow_remote_refs)
    if options.rename_duplicate_operation_ids:
        spec, warnings = rename_duplicates(spec)
        for warning in warnings:
            warn(warning)
    return spec


def _validate(spec: LoadedSpec) -> tuple[Diagnostic, ...]:
    """Lenient `validate` (its warnings returned); the error at a duplicate operationId names the
    option that renames it."""
    try:
        return validate(spec, lenient=True)
    except InvalidSpec as exc:
        raise InvalidSpec(exc.message, with_hint(exc.diagnostics, spec.document)) from None
