"""No string from a spec can change what the generated code does (property-based).

Spec strings go through one sanitizer (identifiers) or are rendered as data (literals, docstrings):
the output compiles, importing it has no side effect, and every string comes back unchanged.
"""

from __future__ import annotations

import importlib
import itertools
import os
import sys
from pathlib import Path

import pytest
import yaml
from fastapi.openapi.utils import get_openapi
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from generator.codegen.output import write_package
from generator.codegen.pipeline import generate_package
from generator.spec.errors import ContractError

# What a payload would create; one name per process, so that parallel runs (xdist workers, other
# checkouts on the same machine) never see each other's marker.
MARKER = Path(f"/tmp/contract-injection-marker-{os.getpid()}")  # noqa: S108
PAYLOADS = [
    f'"""; import os; os.system("touch {MARKER}"); """',
    f"'''\nopen('{MARKER}', 'w')\n'''",
    f'\\"; __import__("os").system("touch {MARKER}") #',
    "{{ 7*7 }}{% raw %}",
    "\\N{BULLET} \\x00 \\u2028",
    "\r\nSet-Cookie: evil=1",
    "line one\n    indented \"quoted\" 'single'",
    'ends with a quote"',
    "ends with a backslash\\",
    f"__import__('os').system('touch {MARKER}')",
    "class",
    "def f(): pass",
    "\u202e right-to-left \U0001f600",
]
nasty = st.sampled_from(PAYLOADS) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)
printable = nasty.filter(bool)
schema_name = st.from_regex(r"\A[A-Za-z][A-Za-z0-9._-]{0,15}\Z")
counter = itertools.count()


def _document(
    op_id: str, param: str, prop: str, enum: list[str], summary: str, schema: str
) -> dict:  # type: ignore[type-arg]
    return {
        "openapi": "3.1.0",
        "info": {"title": summary, "version": "1", "description": op_id},
        "paths": {
            "/things": {
                "post": {
                    "operationId": op_id,
                    "summary": summary,
                    "description": prop,
                    "parameters": [
                        {
                            "name": param,
                            "in": "query",
                            "description": summary,
                            "schema": {"type": "string", "example": summary},
                        }
                    ],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{schema}"}
                            }
                        }
                    },
                    "responses": {
                        "200": {
                            "description": summary,
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": f"#/components/schemas/{schema}"}
                                }
                            },
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                schema: {
                    "type": "object",
                    "description": summary,
                    "properties": {
                        prop: {
                            "type": "string",
                            "enum": enum,
                            "default": enum[0],
                            "description": summary,
                            "example": op_id,
                        },
                    },
                }
            }
        },
    }


@pytest.mark.slow
# An enum default is stored as its plain value; pydantic warns when it serializes it. Harmless.
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)
@given(
    op_id=printable,
    param=printable,
    prop=printable,
    enum=st.lists(nasty, min_size=1, max_size=3, unique=True),
    summary=nasty,
    schema=schema_name,
)
def test_spec_strings_stay_data(
    tmp_path_factory: object,
    op_id: str,
    param: str,
    prop: str,
    enum: list[str],
    summary: str,
    schema: str,
) -> None:
    root: Path = tmp_path_factory.mktemp("inject")  # type: ignore[attr-defined]
    spec = root / "hostile.yaml"
    spec.write_text(
        yaml.safe_dump(_document(op_id, param, prop, enum, summary, schema)), encoding="utf-8"
    )
    package = f"hostile_{next(counter)}"
    try:
        files = generate_package(spec, package)
    except ContractError as refused:  # refusing is fine; crashing or obeying is not
        assert all("\n" not in line for line in refused.lines())
        event(f"refused: {refused.lines()[0].split(': ', 1)[-1][:60]}")
        return
    event("generated")
    for name, text in files.items():
        if name.endswith(".py"):
            compile(text, name, "exec")
    write_package(root / package, files)
    MARKER.unlink(missing_ok=True)
    sys.path.insert(0, str(root))
    try:
        importlib.invalidate_caches()
        module = importlib.import_module(package)
        app = module.create_app()
    finally:
        sys.path.remove(str(root))
    assert not MARKER.exists(), "importing the generated package ran spec text"

    route = next(r for r in app.routes if hasattr(r, "contract"))
    assert route.contract.operation_id == op_id
    derived = get_openapi(title="t", version="1", routes=app.routes)
    parameters = derived["paths"]["/things"]["post"]["parameters"]
    assert [p["name"] for p in parameters] == [param]
    models = importlib.import_module(f"{package}.models")
    model_class = next(
        getattr(models, n)
        for n in dir(models)
        if hasattr(getattr(models, n), "model_json_schema")
        and getattr(models, n).__module__ == models.__name__
    )
    properties = model_class.model_json_schema(by_alias=True)["properties"]
    assert list(properties) == [prop]
    instance = model_class.model_validate({})
    assert instance.model_dump(by_alias=True, mode="json")[prop] == enum[0]
    for value in enum:
        assert (
            model_class.model_validate({prop: value}).model_dump(by_alias=True, mode="json")[prop]
            == value
        )
