"""Render the IR into the files of a generated package: one template per file, logic stays here."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2

from generator import __version__
from generator.codegen import ir
from generator.spec.errors import ContractError

_TEMPLATES = Path(__file__).parents[1] / "templates"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCALARS = frozenset({"str", "int", "float", "bool"})
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
LINE_LENGTH = 100
SERVER_FILES = ("__init__.py", "api.py", "responses.py", "app.py", "runtime.py")


def python_literal(value: Any) -> str:
    """A Python literal for a value from the spec: data, never code."""
    if isinstance(value, str):
        return ascii(value)  # pure ASCII: every other character escaped, nothing left to hide
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, (tuple, list)):
        items = ", ".join(python_literal(v) for v in value)
        if isinstance(value, list):
            return f"[{items}]"
        return f"({items},)" if len(value) == 1 else f"({items})"
    raise TypeError(f"no literal for {type(value).__name__}")


def docstring_text(text: str) -> str:
    """Spec prose made safe inside a triple-quoted string: no escapes, no early end, and no
    invisible or bidirectional-control characters (the "Trojan Source" trick)."""
    text = text.replace("\r\n", "\n").replace("\t", "    ")
    cleaned = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) not in _INVISIBLE)
    cleaned = cleaned.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return cleaned.strip()


def docstring(text: str, indent: int = 4) -> str:
    body = docstring_text(text) or "Undocumented."
    width = LINE_LENGTH - indent - 6  # room for the quotes
    lines = [
        wrapped
        for line in body.splitlines()
        for wrapped in (
            textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False)
            if len(line) > width
            else [line.rstrip()]
        )
    ]
    if len(lines) == 1 and not lines[0].endswith('"'):
        return f'"""{lines[0]}"""'
    pad = " " * indent
    rest = "\n".join(f"{pad}{line}" if line else "" for line in lines[1:])
    closing = f"\n{rest}\n{pad}" if rest else f"\n{pad}"
    return f'"""{lines[0]}{closing}"""'


def route_path(op: ir.Operation) -> str:
    """The path with each parameter renamed to its Python name (Starlette wants identifiers)."""
    path = op.path
    for param in op.path_parameters:
        path = path.replace("{" + param.wire_name + "}", "{" + param.python_name + "}")
    return path


def parameter_annotation(param: ir.Parameter) -> str:
    """Parameters travel as text: scalars and lists of scalars are parsed, the rest stays str.

    A path parameter is one segment: a list or object there (matrix or label style) stays str.
    """
    if param.location == "path" and param.annotation not in _SCALARS and not param.choices:
        return "str"
    if param.choices:
        literal = f"Literal[{', '.join(python_literal(c) for c in param.choices)}]"
        return literal if param.required else f"{literal} | None"
    annotation = param.annotation.removesuffix(" | None")
    inner = annotation[5:-1] if annotation.startswith("list[") else annotation
    if inner not in _SCALARS and inner != "bytes":
        annotation = annotation.replace(inner, "str") if annotation.startswith("list[") else "str"
    if annotation == "bytes":
        annotation = "str"
    return annotation if param.required else f"{annotation} | None"


def _interface_arguments(op: ir.Operation) -> list[str]:
    arguments = []
    for param in op.parameters:
        annotation = parameter_annotation(param)
        default = "" if param.required else " = None"
        arguments.append(f"{param.python_name}: {annotation}{default}")
    if op.body is not None:
        if op.body.required:
            arguments.append(f"body: {op.body.annotation}")
        else:
            arguments.append(f"body: {_optional(op.body.annotation)} = None")
    # keyword-only arguments may mix required and optional in any order; required first reads best
    return sorted(arguments, key=lambda a: a.endswith("= None"))  # stable: keeps path order


def _optional(annotation: str) -> str:
    if annotation.endswith("| None") or annotation == "Any":
        return annotation
    return f"{annotation} | None"


_FASTAPI_MARKER = {"path": "Path", "query": "Query", "header": "Header", "cookie": "Cookie"}


def _endpoint_arguments(op: ir.Operation) -> list[str]:
    arguments = ["request: Request"] if op.body is not None else []
    for param in op.parameters:
        marker = _FASTAPI_MARKER[param.location]
        options = []
        if param.location != "path" and param.wire_name != param.python_name:
            options.append(f"alias={python_literal(param.wire_name)}")
        if param.location == "header":
            options.append("convert_underscores=False")
        inner = parameter_annotation(param).removesuffix(" | None")
        if inner in _SCALARS:  # bounds apply to the value, not to a list of them
            options.extend(f"{key}={value!r}" for key, value in param.constraints)
        annotation = f"Annotated[{parameter_annotation(param)}, {marker}({', '.join(options)})]"
        default = "" if param.required else " = None"
        arguments.append(f"{param.python_name}: {annotation}{default}")
    return sorted(arguments, key=lambda a: a.endswith("= None"))


def _call_arguments(op: ir.Operation) -> list[str]:
    names = [p.python_name for p in op.parameters]
    return [*names, "body"] if op.body is not None else names


_READERS = {
    "json": "read_json_body",
    "form": "read_form_body",
    "text": "read_text_body",
    "binary": "read_binary_body",
}


def _body_adapter_name(op: ir.Operation) -> str:
    return f"_{op.method_name.upper()}_BODY"


def _body_call(op: ir.Operation) -> str:
    assert op.body is not None
    reader = _READERS[op.body.kind]
    required = op.body.required
    if op.body.kind in ("json", "form"):
        return (
            f"{reader}(request, {_body_adapter_name(op)}, required={required}, "
            "max_bytes=max_body_bytes)"
        )
    return f"{reader}(request, required={required}, max_bytes=max_body_bytes)"


def _operation_doc(op: ir.Operation) -> str:
    title = op.summary or op.operation_id
    parts = [title.rstrip(".") + ".", "", f"`{op.method} {op.path}`"]
    if op.description and op.description.strip() != op.summary.strip():
        parts += ["", op.description.strip()]
    return "\n".join(parts)


def _response_doc(op: ir.Operation, response: ir.Response) -> str:
    description = response.description.strip() or "Response"
    return f"{response.status}: {description} ({op.operation_id})"


def _names_used(annotations: Iterable[str | None], models: Iterable[str]) -> list[str]:
    model_set = set(models)
    found: set[str] = set()
    for annotation in annotations:
        if annotation:
            found.update(n for n in _IDENTIFIER.findall(annotation) if n in model_set)
    return sorted(found)


def _uses_any(annotations: Iterable[str | None]) -> bool:
    return any(a and "Any" in _IDENTIFIER.findall(a) for a in annotations)


class Renderer:
    def __init__(self, spec_name: str, spec_sha256: str, package: str) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_TEMPLATES),
            autoescape=False,  # noqa: S701 - the output is Python; spec strings go through `py`
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["py"] = python_literal
        self.env.filters["docstring"] = docstring
        self.env.filters["docstring_text"] = docstring_text
        self.env.globals.update(
            generator_version=__version__,
            spec_name=json.dumps(spec_name)[1:-1],
            spec_sha256=spec_sha256,
            package=json.dumps(package)[1:-1],
            signature=_interface_arguments,
            endpoint_arguments=_endpoint_arguments,
            call_arguments=_call_arguments,
            body_call=_body_call,
            route_path=route_path,
            operation_doc=_operation_doc,
            response_doc=_response_doc,
        )

    def header(self) -> str:
        return self.env.get_template("header.jinja").render().rstrip("\n")

    def render_server(self, api: ir.Api) -> dict[str, str]:
        response_annotations = [r.body_annotation for op in api.operations for r in op.responses]
        interface_annotations = [a for op in api.operations for a in _interface_arguments(op)]
        bodies = [op for op in api.operations if op.body and op.body.kind in ("json", "form")]
        body_annotations = [op.body.annotation for op in bodies if op.body]
        typing_names = ["ClassVar", "TypeAlias"]
        if _uses_any(response_annotations):
            typing_names.insert(0, "Any")
        app_typing = ["Annotated"] if any(op.parameters for op in api.operations) else []
        uses_literal = any(p.choices for op in api.operations for p in op.parameters)
        if uses_literal:
            app_typing.append("Literal")
        if _uses_any(body_annotations):
            app_typing.append("Any")
        fastapi_names = {"FastAPI"}
        for op in api.operations:
            fastapi_names.update(_FASTAPI_MARKER[p.location] for p in op.parameters)
            if op.body is not None:
                fastapi_names.add("Request")
        readers = sorted({_READERS[op.body.kind] for op in api.operations if op.body})
        context = {
            "api": api,
            "typing_imports": ", ".join(typing_names),
            "model_imports": _names_used(response_annotations, api.model_names),
            "api_typing_imports": [
                name
                for name, used in (
                    ("Any", _uses_any(interface_annotations)),
                    ("Literal", uses_literal),
                )
                if used
            ],
            "app_typing_imports": ", ".join(app_typing) if app_typing else "Any",
            "fastapi_imports": sorted(fastapi_names),
            "app_model_imports": _names_used(body_annotations, api.model_names),
            "body_adapters": [(op, _body_adapter_name(op)) for op in bodies],
            "body_readers": readers,
            "allowed_methods": [(route_path(_first_op(api, p)), m) for p, m in api.paths],
        }
        context["model_imports_api"] = _names_used(interface_annotations, api.model_names)
        files = {}
        for name in SERVER_FILES:
            template = self.env.get_template(f"server/{name}.jinja")
            file_context = dict(context)
            if name == "api.py":
                file_context["model_imports"] = context["model_imports_api"]
            files[name] = template.render(**file_context)
        return files


def _first_op(api: ir.Api, path: str) -> ir.Operation:
    return next(op for op in api.operations if op.path == path)


def format_python(files: dict[str, str]) -> dict[str, str]:
    """Format and import-sort every Python file with ruff in one pass (pinned, deterministic)."""
    python_files = {name: text for name, text in files.items() if name.endswith(".py")}
    if not python_files:
        return files
    for name, text in python_files.items():
        try:
            compile(text, name, "exec", dont_inherit=True)
        except SyntaxError as exc:
            raise ContractError(
                f"generated {name} does not compile at line {exc.lineno}: {exc.msg} "
                "(a generator bug; please report it with the spec)"
            ) from None
    ruff = _ruff_binary()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="contract-fmt-") as scratch:
        root = Path(scratch)
        for name, text in python_files.items():
            (root / name).write_text(text, encoding="utf-8")
        settings = ["--isolated", "--line-length", "100", "--target-version", "py311"]
        for command in (
            [
                ruff,
                "check",
                "--fix-only",
                "--select",
                "I,F401",
                "--exit-zero",
                "-q",
                *settings,
                ".",
            ],
            [ruff, "format", "--quiet", *settings, "."],
        ):
            result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
                command, cwd=root, capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                problem = (result.stderr or result.stdout).strip().splitlines()
                detail = problem[0] if problem else f"exit {result.returncode}"
                raise ContractError(f"generated code does not parse (a generator bug): {detail}")
        formatted = {name: (root / name).read_text(encoding="utf-8") for name in python_files}
    return {**files, **formatted}


def _ruff_binary() -> str:
    beside_python = Path(sys.executable).parent / "ruff"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("ruff")
    if found is None:
        raise ContractError("ruff is not installed; it formats the generated code")
    return found
