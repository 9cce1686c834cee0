"""Request bodies written inline in an operation get a model (generator/codegen/inline_bodies.py),
so the generated server validates their fields, not only that they are objects."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from generator.codegen.inline_bodies import hoist_inline_bodies
from generator.codegen.pipeline import generate_package
from generator.spec.loader import load_spec
from tests.conftest import REPO
from tests.support.mock_proxy import MOCK_TOKEN, mock_server

SPEC = REPO / "tests" / "specs" / "inline-bodies.yaml"
AUTH = {"Authorization": f"Bearer {MOCK_TOKEN}"}


def test_each_inline_body_is_named_after_its_operation_or_shared_body() -> None:
    document = load_spec(SPEC).document
    models_document, hoisted = hoist_inline_bodies(document)
    assert hoisted == {
        # `CreateNoteBody` is a schema of the document already: the hoisted one is another.
        "/paths/~1notes/post/requestBody/content/application~1json/schema": "CreateNoteBody_2",
        "/components/requestBodies/NoteText/content/"
        "application~1x-www-form-urlencoded/schema": "NoteTextBody",
    }
    assert set(models_document["components"]["schemas"]) == {
        "CreateNoteBody",
        "Error",
        "CreateNoteBody_2",
        "NoteTextBody",
    }
    assert "NoteTextBody" not in document["components"]["schemas"]  # the served one is as given


def test_the_interface_takes_the_models() -> None:
    files = generate_package(SPEC, "notes")
    assert "body: CreateNoteBody2," in files["api.py"]
    assert "body: NoteTextBody," in files["api.py"]
    assert "class CreateNoteBody2(BaseModel):" in files["models.py"]
    assert '"CreateNoteBody_2": "CreateNoteBody2"' in files[".contract-manifest.json"]


@pytest.fixture(scope="module")
def notes_url() -> Iterator[str]:
    with mock_server(SPEC) as url:
        yield url


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"title": "groceries", "priority": 2}, 201, None),
        ({}, 422, "title"),
        ({"title": ""}, 422, "title"),
        ({"title": "groceries", "priority": 9}, 422, "priority"),
    ],
)
def test_an_inline_json_body_is_validated_field_by_field(
    notes_url: str, body: dict[str, object], status: int, detail: str | None
) -> None:
    answer = httpx.post(f"{notes_url}/notes", json=body, headers=AUTH)
    assert answer.status_code == status, answer.text
    if detail is not None:
        assert answer.json()["detail"].startswith(detail)


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_shared_inline_form_body_is_validated_too(notes_url: str, method: str) -> None:
    good = httpx.request(method, f"{notes_url}/notes/1", data={"text": "short"}, headers=AUTH)
    assert good.status_code == 204, good.text
    long = httpx.request(method, f"{notes_url}/notes/1", data={"text": "x" * 21}, headers=AUTH)
    assert long.status_code == 422
    assert long.json()["detail"].startswith("text")
