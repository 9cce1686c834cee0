"""What the generated app guarantees, over real HTTP against uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from generator.codegen.output import write_package
from generator.codegen.pipeline import generate_package
from tests.conftest import SHARED
from tests.support.server import uvicorn_server

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CANCEL = "/workflows/{wf}/runs/run-1/cancel"
ERROR_KEYS = {"detail", "error_code"}
SEED = SHARED / "contracts" / "agentos-cancel-workflow-run.yaml"


@pytest.fixture(scope="module")
def seed_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seed")
    write_package(root / "agentos_seed", generate_package(SEED, "agentos_seed"))
    return root


@pytest.fixture(scope="module")
def seed_log(seed_package: Path) -> Path:
    return seed_package / "server.log"


@pytest.fixture(scope="module")
def seed_url(seed_package: Path, seed_log: Path) -> Iterator[str]:
    env = {"TEST_TOKEN": TOKEN}
    factory = "tests.apps.cancel_impl:create"
    with uvicorn_server(factory, env=env, extra_paths=(seed_package,), log_path=seed_log) as url:
        yield url


@pytest.fixture(scope="module")
def scaffold_url(seed_package: Path) -> Iterator[str]:
    factory = "tests.apps.cancel_impl:create_scaffold"
    env = {"TEST_TOKEN": TOKEN}
    with uvicorn_server(factory, env=env, extra_paths=(seed_package,)) as url:
        yield url


def cancel(url: str, wf: str, **kwargs: object) -> httpx.Response:
    return httpx.post(url + CANCEL.format(wf=wf), **kwargs)  # type: ignore[arg-type]


# -- security ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": TOKEN},
    ],
    ids=["missing", "basic-scheme", "wrong-token", "empty-token", "longer-token", "no-scheme"],
)
def test_bad_credentials_get_the_declared_401(seed_url: str, headers: dict[str, str]) -> None:
    response = cancel(seed_url, "ok", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Not authenticated", "error_code": "UNAUTHENTICATED"}


def test_bearer_scheme_is_case_insensitive(seed_url: str) -> None:
    response = cancel(seed_url, "ok", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200


# -- declared responses -----------------------------------------------------------------------


def test_declared_statuses_go_out_with_their_schema(seed_url: str) -> None:
    ok = cancel(seed_url, "ok", headers=AUTH)
    assert ok.status_code == 200 and ok.json() == {"run_id": "run-1", "status": "CANCELLED"}
    bad = cancel(seed_url, "finished", headers=AUTH)
    assert bad.status_code == 400
    assert bad.json() == {"detail": "run already finished", "error_code": "RUN_NOT_ACTIVE"}
    missing = cancel(seed_url, "unknown", headers=AUTH)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/json"
    assert missing.json() == {"detail": "workflow not found", "error_code": "WORKFLOW_NOT_FOUND"}


def test_an_exception_is_a_declared_500_without_internals(seed_url: str) -> None:
    response = cancel(seed_url, "boom", headers=AUTH)
    assert response.status_code == 500
    assert response.json() == {
        "detail": "Internal server error",
        "error_code": "INTERNAL_SERVER_ERROR",
    }
    assert "secret-internal-detail" not in response.text and "Traceback" not in response.text


@pytest.mark.parametrize(
    ("wf", "logged"),
    [
        ("undeclared", "returned str, which the contract does not declare"),
        ("wrong-media", "content type 'text/html' is not declared"),
    ],
)
def test_an_undeclared_response_becomes_a_logged_500(
    seed_url: str, seed_log: Path, wf: str, logged: str
) -> None:
    response = cancel(seed_url, wf, headers=AUTH)
    assert response.status_code == 500
    assert set(response.json()) == ERROR_KEYS
    assert response.headers["content-type"] == "application/json"
    assert logged in seed_log.read_text(encoding="utf-8")


def test_other_methods_get_405_with_allow(seed_url: str) -> None:
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        response = httpx.request(method, seed_url + CANCEL.format(wf="ok"), headers=AUTH)
        assert response.status_code == 405, method
        assert response.headers["allow"] == "POST"
        assert set(response.json()) == ERROR_KEYS


def test_unknown_path_is_a_json_404(seed_url: str) -> None:
    response = httpx.get(seed_url + "/nothing/here")
    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"


def test_openapi_json_is_the_input_contract(seed_url: str) -> None:
    served = httpx.get(seed_url + "/openapi.json").json()
    source = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    assert served == json.loads(json.dumps(source))
    for operation in served["paths"][
        CANCEL.replace("{wf}", "{workflow_id}").replace("run-1", "{run_id}")
    ].values():
        assert "422" in operation["responses"]  # declared by the contract, not added by FastAPI


def test_scaffold_mode_answers_501_naming_the_operation(scaffold_url: str) -> None:
    response = cancel(scaffold_url, "ok", headers=AUTH)
    assert response.status_code == 501
    assert response.json() == {
        "detail": "operation 'cancel_workflow_run' is not implemented",
        "error_code": "NOT_IMPLEMENTED",
    }
    assert cancel(scaffold_url, "ok").status_code == 401


def test_an_app_without_any_verifier_admits_nobody(seed_package: Path) -> None:
    factory = "tests.apps.cancel_impl:create_scaffold"
    with uvicorn_server(factory, env={"TEST_TOKEN": ""}, extra_paths=(seed_package,)) as url:
        assert cancel(url, "ok", headers=AUTH).status_code == 401
        assert cancel(url, "ok", headers={"Authorization": "Bearer x"}).status_code == 401


# -- request validation (kitchen-sink contract) -----------------------------------------------

KITCHEN_AUTH = {"Authorization": "Bearer kitchen-token"}


def test_validation_errors_use_the_declared_4xx_body_with_a_string_detail(kitchen_url: str) -> None:
    response = httpx.get(kitchen_url + "/items", params={"limit": 0}, headers=KITCHEN_AUTH)
    assert response.status_code == 422 or 400 <= response.status_code < 500
    body = response.json()
    assert set(body) <= {"message", "code"} and isinstance(body["message"], str)
    assert "limit" in body["message"]


def test_json_body_is_validated_strictly(kitchen_url: str) -> None:
    wrong_types = [
        {"name": "a", "quantity": False},
        {"name": "a", "quantity": "3"},
        {"name": 5, "quantity": 1},
    ]
    for body in wrong_types:
        response = httpx.post(kitchen_url + "/items", json=body, headers=KITCHEN_AUTH)
        assert response.status_code == 422, body
        assert isinstance(response.json()["message"], str)
        assert response.json()["code"] == "VALIDATION_ERROR"
    good = httpx.post(
        kitchen_url + "/items",
        json={"name": "a", "quantity": 3, "class": "x"},
        headers=KITCHEN_AUTH,
    )
    assert good.status_code == 201
    assert good.json() == {"name": "a", "quantity": 3, "class": "x", "id": 1}


def test_malformed_json_gets_the_declared_400(kitchen_url: str) -> None:
    response = httpx.post(
        kitchen_url + "/items",
        content=b'{"name": "a",',
        headers={**KITCHEN_AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {"message": "body: malformed JSON", "code": "MALFORMED_JSON"}


def test_missing_required_body_is_a_422(kitchen_url: str) -> None:
    response = httpx.post(kitchen_url + "/items", headers=KITCHEN_AUTH)
    assert response.status_code == 422


def test_a_required_binary_body_arrives_as_bytes(kitchen_url: str) -> None:
    """`upload_blob(body: bytes)`: a required binary body is never None (issue 13)."""
    response = httpx.post(
        kitchen_url + "/blobs",
        content=b"\x00\x01\x02",
        headers={**KITCHEN_AUTH, "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 201
    assert response.json() == {"size": 3}
    missing = httpx.post(kitchen_url + "/blobs", headers=KITCHEN_AUTH)
    assert missing.status_code == 422


def test_oversized_body_is_a_declared_4xx(kitchen_url: str) -> None:
    response = httpx.post(
        kitchen_url + "/items",
        content=b"{" + b" " * (1024 * 1024 + 10) + b"}",
        headers={**KITCHEN_AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "larger than" in response.json()["message"]


def test_path_parameter_with_a_dash_and_typed_validation(kitchen_url: str) -> None:
    assert httpx.delete(kitchen_url + "/items/999", headers=KITCHEN_AUTH).status_code == 404
    invalid = httpx.delete(kitchen_url + "/items/not-a-number", headers=KITCHEN_AUTH)
    assert invalid.status_code == 422
    assert "item_id" in invalid.json()["message"] or "item-id" in invalid.json()["message"]


def test_no_content_response_has_no_body(kitchen_url: str) -> None:
    created = httpx.post(
        kitchen_url + "/items", json={"name": "b", "quantity": 1}, headers=KITCHEN_AUTH
    )
    item_id = created.json()["id"]
    deleted = httpx.delete(f"{kitchen_url}/items/{item_id}", headers=KITCHEN_AUTH)
    assert deleted.status_code == 204 and deleted.content == b""


def test_form_body_and_text_response(kitchen_url: str) -> None:
    response = httpx.post(
        kitchen_url + "/notes", data={"text": "hi", "pinned": "true"}, headers=KITCHEN_AUTH
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "hi (pinned)"
    missing = httpx.post(kitchen_url + "/notes", data={"pinned": "true"}, headers=KITCHEN_AUTH)
    assert missing.status_code == 422


def test_security_alternatives_and_optional_security(kitchen_url: str) -> None:
    by_key = httpx.get(kitchen_url + "/items", headers={"X-API-Key": "kitchen-key"})
    assert by_key.status_code == 200
    wrong_key = httpx.get(kitchen_url + "/items", headers={"X-API-Key": "nope"})
    assert wrong_key.status_code == 401 and wrong_key.headers["www-authenticate"] == "Bearer"
    assert httpx.get(kitchen_url + "/public/status").json() == {"ok": True}


def test_ranged_status_and_its_bounds(kitchen_url: str) -> None:
    teapot = httpx.get(kitchen_url + "/items", headers={**KITCHEN_AUTH, "X-Trace-Id": "teapot"})
    assert teapot.status_code == 418 and teapot.json() == {"message": "teapot", "code": "TEAPOT"}
    outside = httpx.get(
        kitchen_url + "/items", headers={**KITCHEN_AUTH, "X-Trace-Id": "outside-range"}
    )
    assert outside.status_code == 500


def test_405_lists_every_declared_method(kitchen_url: str) -> None:
    # QUERY (a newer method) and an invented one too: not only the methods the runtime knows.
    for method in ("PUT", "QUERY", "FROBNICATE"):
        response = httpx.request(method, kitchen_url + "/items", headers=KITCHEN_AUTH)
        assert response.status_code == 405, method
        assert response.headers["allow"] == "GET, POST", method


def test_an_inline_body_is_a_model_the_server_validates(kitchen_url: str) -> None:
    created = httpx.post(
        kitchen_url + "/items", headers=KITCHEN_AUTH, json={"name": "cup", "quantity": 1}
    )
    item = f"{kitchen_url}/items/{created.json()['id']}"
    renamed = httpx.patch(item, headers=KITCHEN_AUTH, json={"name": "mug"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "mug"
    too_long = httpx.patch(item, headers=KITCHEN_AUTH, json={"name": "m" * 41})
    assert too_long.status_code == 422 and too_long.json()["message"].startswith("name")
    missing = httpx.patch(kitchen_url + "/items/9999", headers=KITCHEN_AUTH, json={"name": "x"})
    assert missing.status_code == 404


def test_a_multipart_body_brings_its_file_and_fields(kitchen_url: str) -> None:
    url = kitchen_url + "/items/1/photos"
    photo = {"photo": ("cup.jpg", b"\xff\xd8\xff" + b"\x00" * 7, "image/jpeg")}
    attached = httpx.post(url, headers=KITCHEN_AUTH, files=photo, data={"caption": "front"})
    assert attached.status_code == 201, attached.text
    assert attached.json() == {"size": 10, "kind": "text"}
    no_file = httpx.post(url, headers=KITCHEN_AUTH, files={"caption": (None, "front")})
    assert no_file.status_code == 422 and no_file.json()["message"].startswith("photo")


@pytest.mark.parametrize(
    ("shape", "status"),
    [
        ({"kind": "circle", "radius": 1.5}, 201),
        ({"kind": "square", "side": 2.0}, 201),
        ({"kind": "square", "radius": 1.5}, 422),  # a circle's field under the square's value
        ({"kind": "triangle", "side": 2.0}, 422),
    ],
)
def test_a_discriminated_union_validates_the_member_its_value_names(
    kitchen_url: str, shape: dict[str, object], status: int
) -> None:
    answer = httpx.post(kitchen_url + "/shapes", headers=KITCHEN_AUTH, json=shape)
    assert answer.status_code == status, answer.text
    if status == 201:
        assert answer.json() == shape
