"""Any spec name becomes a valid, readable, collision-free Python identifier; wire names stay."""

from __future__ import annotations

import keyword
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from generator.codegen.names import pascal_case, snake_case, unique
from generator.codegen.output import write_package
from generator.codegen.pipeline import generate_package
from tests.conftest import REPO
from tests.support.server import uvicorn_server


@pytest.mark.parametrize(
    ("spec_name", "snake", "pascal"),
    [
        ("meta/root", "meta_root", "MetaRoot"),
        ("class", "class_", "Class"),
        ("import", "import_", "Import"),
        ("123abc", "value_123_abc", "Model123Abc"),
        ("Café", "cafe", "Cafe"),
        ("straße", "strasse", "Strasse"),
        ("getHTTPResponse", "get_http_response", "GetHTTPResponse"),
        ("user-id", "user_id", "UserId"),
        ("X-Trace-Id", "x_trace_id", "XTraceId"),
        ("", "value", "Model"),
        ("___", "value", "Model"),
        ("日本語", "value", "Model"),
        ("list", "list_", "List"),
        ("self", "self_", "Self"),
        ("None", "none", "None_"),
        ("a.b.c", "a_b_c", "ABC"),
    ],
)
def test_awkward_names(spec_name: str, snake: str, pascal: str) -> None:
    assert snake_case(spec_name) == snake
    assert pascal_case(spec_name) == pascal
    for name in (snake_case(spec_name), pascal_case(spec_name)):
        assert name.isidentifier() and not keyword.iskeyword(name)


def test_unique_settles_collisions_deterministically() -> None:
    taken: set[str] = set()
    names = [unique(snake_case(n), taken) for n in ("get-item", "getItem", "get_item", "GET ITEM")]
    assert names == ["get_item", "get_item_2", "get_item_3", "get_item_4"]


SPEC = REPO / "tests" / "specs" / "awkward-names.yaml"


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("awkward")
    files = generate_package(SPEC, "awkward")
    write_package(root / "awkward", files)
    yield root, files["api.py"]


def test_generated_names_are_distinct_and_readable(awkward: tuple[Path, str]) -> None:
    _, api = awkward
    for method in (
        "def meta_root(",
        "def get_item(",
        "def get_item_2(",
        "def get_item_3(",
        "def cafe(",
    ):
        assert method in api
    for argument in ("class_: str | None", "user_id: str | None", "user_id_2: str | None"):
        assert argument in api
    assert "param_2_fa: str | None" in api


def test_wire_names_stay_exactly_as_in_the_spec(awkward: tuple[Path, str]) -> None:
    root, _ = awkward
    factory = "tests.apps.awkward_impl:create"
    with uvicorn_server(factory, extra_paths=(root,)) as url:
        response = httpx.get(
            url + "/meta/root",
            params={"class": "c", "user-id": "dash", "user_id": "under"},
            headers={"2fa": "otp"},
        )
        assert response.status_code == 200
        assert response.json() == {
            "def": "class=c user-id=dash user_id=under 2fa=otp",
            "self": 1,
            "@type": "echo",
            "Name": "upper",
            "name": "lower",
        }
        assert httpx.get(url + "/café/x y").status_code == 204
