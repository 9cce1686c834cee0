"""Pydantic v2 models through datamodel-code-generator's Python API, with pinned options."""

from __future__ import annotations

import ast
import hashlib
import json
import multiprocessing as mp
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from datamodel_code_generator import generate
from datamodel_code_generator.enums import DataModelType, InputFileType
from datamodel_code_generator.format import PythonVersion

from generator.spec.errors import UnsupportedSpec

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
    "treat_dot_as_module": False,  # "v1.User" is a class name, not a module path
    "set_default_enum_member": True,
    # Enum members named like a `str` method (`count`, `split`) become `count_`: the library
    # checks that only for subclass enums, and a StrEnum is one (mypy: incompatible override).
    "use_subclass_enum": True,
    "use_enum_values_in_discriminator": True,
    "formatters": [],  # the renderer formats every file with ruff in one pass
}


@dataclass(frozen=True, slots=True)
class GeneratedModels:
    source: str
    # components/schemas name → the class that models it, as datamodel-code-generator named it
    class_for_schema: dict[str, str]


# Above this many schemas, models are generated in a child process while the parent validates.
PARALLEL_THRESHOLD = 200


def start_models(document: dict[str, Any], header: str) -> Callable[[], GeneratedModels]:
    """Begin generating models; call the result to wait for them (UnsupportedSpec on failure)."""
    schemas = (document.get("components") or {}).get("schemas") or {}
    if len(schemas) < PARALLEL_THRESHOLD or "fork" not in mp.get_all_start_methods():
        return lambda: generate_models(document, header)
    context = mp.get_context("fork")  # the child inherits the parsed document for free
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(document, header, sender), daemon=True)
    child.start()
    sender.close()

    def wait() -> GeneratedModels:
        try:
            outcome = receiver.recv()
        except EOFError:
            outcome = ("error", f"model generation died (exit code {child.exitcode})")
        finally:
            child.join()
            receiver.close()
        if outcome[0] == "error":
            raise UnsupportedSpec(outcome[1])
        return GeneratedModels(source=outcome[1], class_for_schema=outcome[2])

    return wait


def _child(document: dict[str, Any], header: str, sender: Connection) -> None:
    try:
        models = generate_models(document, header)
        sender.send(("ok", models.source, models.class_for_schema))
    except UnsupportedSpec as exc:
        sender.send(("error", exc.message))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as one line
        sender.send(("error", f"model generation failed: {type(exc).__name__}: {exc}"))
    finally:
        sender.close()


def generate_models(document: dict[str, Any], header: str) -> GeneratedModels:
    schemas = (document.get("components") or {}).get("schemas") or {}
    if not schemas:
        return GeneratedModels(source=f"{header}\n", class_for_schema={})
    try:
        with (
            warnings.catch_warnings(),
            tempfile.TemporaryDirectory(prefix="contract-models-") as scratch,
        ):
            warnings.simplefilter("ignore")  # unknown formats etc.: the library's own chatter
            metadata_path = Path(scratch) / "models.json"
            source = generate(
                document,
                custom_file_header=header,
                emit_model_metadata=metadata_path,
                **_OPTIONS,
            )
            metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    except Exception as exc:  # the library raises many types; the user needs one line
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnsupportedSpec(f"models could not be generated: {first_line}") from exc
    if not isinstance(source, str):
        raise UnsupportedSpec("models could not be generated as a single module")
    source = typed_root_defaults(source)
    return GeneratedModels(
        source=source, class_for_schema=schema_classes(metadata, _defined_names(source))
    )


def schema_classes(metadata: Any, defined: set[str]) -> dict[str, str]:
    """components/schemas name → class, from datamodel-code-generator's model metadata.

    The library names every model through its model resolver (`FooBar` and `foo_bar` become
    `FooBar` and `FooBar1`) and reports, per class, the JSON pointer of the schema it models
    (`--emit-model-metadata`). That report is the mapping: nothing is re-derived from names.
    Classes the module does not define at top level (none today) are left out, so such a
    schema is typed from its own shape instead.
    """
    models = metadata.get("models") if isinstance(metadata, dict) else None
    result: dict[str, str] = {}
    for model in models if isinstance(models, list) else []:
        where = model.get("source_path") if isinstance(model, dict) else None
        name = model.get("class_name") if isinstance(model, dict) else None
        if (
            isinstance(where, list)
            and len(where) == 3
            and where[:2] == ["components", "schemas"]
            and isinstance(where[2], str)
            and isinstance(name, str)
            and name in defined
        ):
            result.setdefault(where[2], name)
    return dict(sorted(result.items()))


def models_key(document: dict[str, Any], generator_digest: str) -> str:
    """What the models depend on: the schemas (in order), the OpenAPI version, the generator."""
    schemas = (document.get("components") or {}).get("schemas") or {}
    material = json.dumps([generator_digest, document.get("openapi"), schemas], ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def reuse_models(
    previous: str, header: str, class_for_schema: Mapping[str, str]
) -> GeneratedModels:
    """Models generated earlier from the same schemas, under this generation's header, with the
    schema→class mapping recorded next to them (output.previous_models)."""
    lines = previous.splitlines(keepends=True)
    body_start = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    source = header + "\n" + "".join(lines[body_start:])
    return GeneratedModels(source=source, class_for_schema=dict(class_for_schema))


_SCALAR_ROOTS = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}
_NOT_MODELS = frozenset({"RootModel", "Enum", "StrEnum", "IntEnum"})


def typed_root_defaults(source: str) -> str:
    """Defaults the type checker accepts for what pydantic builds from them:

    `threshold: Threshold | None = 7` → `= Threshold(7)` for a scalar root model `Threshold`, and
    `limits: Limits | None = {"max": 3}` → `= Field(default_factory=lambda:
    Limits.model_validate({"max": 3}))` for a model class `Limits` (built when an instance is,
    so the class may be defined further down; each instance gets its own).

    datamodel-code-generator writes the spec's default as the bare value with
    `validate_default=True`, which pydantic turns into the instance when a model is built, but
    a type checker sees an `int` or a `dict` assigned to the class. (Enum defaults are members
    already: `set_default_enum_member`.)
    """
    tree = ast.parse(source)
    kinds: dict[str, tuple[tuple[type, ...], str]] = {}
    field_imported = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "pydantic"
        and any(alias.name == "Field" and alias.asname is None for alias in node.names)
        for node in tree.body
    )
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or len(node.bases) != 1:
            continue
        base = node.bases[0]
        if (
            isinstance(base, ast.Subscript)
            and isinstance(base.value, ast.Name)
            and base.value.id == "RootModel"
            and isinstance(base.slice, ast.Name)
            and base.slice.id in _SCALAR_ROOTS
        ):
            kinds[node.name] = (_SCALAR_ROOTS[base.slice.id], "{cls}({text})")
        elif field_imported and isinstance(base, ast.Name) and base.id not in _NOT_MODELS:
            kinds[node.name] = (
                (dict,),
                "Field(default_factory=lambda: {cls}.model_validate({text}))",
            )
    # A model class derived from a root model or an enum is neither.
    changed = True
    while changed:
        changed = False
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name in kinds and len(node.bases) == 1:
                base = node.bases[0]
                parent = base.id if isinstance(base, ast.Name) else None
                if parent not in (None, "BaseModel") and parent not in kinds:
                    del kinds[node.name]
                    changed = True
    edits: list[tuple[int, int, int, int, str]] = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for statement in node.body:
            if not isinstance(statement, ast.AnnAssign) or statement.value is None:
                continue
            root = _root_of(statement.annotation, kinds)
            value = statement.value
            literal = _literal(value)
            if root is None or literal is None or type(literal) not in kinds[root][0]:
                continue
            text = ast.get_source_segment(source, value)
            assert value.end_lineno is not None and value.end_col_offset is not None
            edits.append(
                (
                    value.lineno,
                    value.col_offset,
                    value.end_lineno,
                    value.end_col_offset,
                    kinds[root][1].format(cls=root, text=text),
                )
            )
    if not edits:
        return source
    lines = source.splitlines(keepends=True)
    for start, start_col, end, end_col, replacement in sorted(edits, reverse=True):
        # ast columns are UTF-8 byte offsets
        head = lines[start - 1].encode("utf-8")[:start_col].decode("utf-8")
        tail = lines[end - 1].encode("utf-8")[end_col:].decode("utf-8")
        lines[start - 1 : end] = [head + replacement + tail]
    return "".join(lines)


def _root_of(annotation: ast.expr, roots: Mapping[str, object]) -> str | None:
    """`R`, `R | None` or `Annotated[R | None, ...]` for a class `R` of `roots`."""
    if (
        isinstance(annotation, ast.Subscript)
        and isinstance(annotation.value, ast.Name)
        and annotation.value.id == "Annotated"
        and isinstance(annotation.slice, ast.Tuple)
    ):
        annotation = annotation.slice.elts[0]
    if (
        isinstance(annotation, ast.BinOp)
        and isinstance(annotation.op, ast.BitOr)
        and isinstance(annotation.right, ast.Constant)
        and annotation.right.value is None
    ):
        annotation = annotation.left
    if isinstance(annotation, ast.Name) and annotation.id in roots:
        return annotation.id
    return None


def _literal(node: ast.expr) -> object | None:
    try:
        value: object = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return None
    return value


def _defined_names(source: str) -> set[str]:
    tree = ast.parse(source)
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names
