"""`contract mock` over real HTTP: examples, generated data, `Prefer`, and the runtime's guarantees.

Every body the mock sends is checked here against the declared schema with `jsonschema`, and
`contract conform` against the mock must find nothing for the seed contract, our contract and a
sample of the corpus: the mock is only useful if a client built against it meets the contract.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from generator.mock.data import DataGenerator
from generator.mock.prefer import Preferences, parse_prefer
from tests.conftest import REPO, SHARED
from tests.support.conform import run_conform
from tests.support.mock_proxy import MOCK_TOKEN, mock_server

EXAMPLES = REPO / "tests" / "specs" / "mock-examples.yaml"
SEED = SHARED / "contracts" / "agentos-cancel-workflow-run.yaml"
KITCHEN = REPO / "tests" / "golden" / "kitchen_sink" / "openapi.yaml"
AGENTOS = REPO / "spec" / "agentos.yaml"
# Corpus documents whose contracts the generated runtime can meet (they declare the 4xx it sends).
CORPUS_SAMPLE = [
    SHARED / "corpus" / "real" / "interzoid.com__lookupareacode.json",
    SHARED / "corpus" / "real" / "interzoid.com__getfullnamematch.json",
    SHARED / "corpus" / "real" / "departureboard.io.json",
]
AUTH = {"Authorization": f"Bearer {MOCK_TOKEN}"}
CANCEL = "/workflows/demo/runs/run-1/cancel"


def load(spec: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(spec.read_text("utf-8"))
    return document


def assert_valid(document: dict[str, Any], pointer: str, value: object) -> None:
    """`value` is valid against the schema at `pointer` of `document` (refs resolved in it)."""
    draft = DRAFT4 if str(document["openapi"]).startswith("3.0") else DRAFT202012
    registry: Registry[Any] = Registry().with_resource(
        "urn:doc", Resource.from_contents(document, default_specification=draft)
    )
    validator: Any = (
        jsonschema.Draft4Validator if draft is DRAFT4 else jsonschema.Draft202012Validator
    )
    validator({"$ref": f"urn:doc#{pointer}"}, registry=registry).validate(value)


def response_schema(path: str, method: str, status: str) -> str:
    escaped = path.replace("~", "~0").replace("/", "~1")
    return f"/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema"


# Without a server


def test_prefer_reads_code_example_and_dynamic_as_prism_does() -> None:
    assert parse_prefer(["code=404"]) == Preferences(code=404)
    assert parse_prefer(["code=200, example=cat"]) == Preferences(code=200, example="cat")
    assert parse_prefer(['example="dog"; dynamic=true']) == Preferences(example="dog", dynamic=True)
    # Not three digits, or unknown: ignored, never an error (RFC 7240).
    assert parse_prefer(["code=abc, respond-async, wait=5"]) == Preferences()


def test_generated_data_is_deterministic_per_seed_and_valid() -> None:
    document = load(EXAMPLES)
    generator = DataGenerator(document, openapi_30=False)
    schema = {"$ref": "#/components/schemas/Owner"}
    first = generator.value(schema, random.Random(7))
    assert generator.value(schema, random.Random(7)) == first
    others = [generator.value(schema, random.Random(seed)) for seed in range(8, 14)]
    assert any(other != first for other in others)
    for value in [first, *others]:
        assert_valid(document, "/components/schemas/Owner", value)


# Over HTTP


@pytest.fixture(scope="module")
def examples_url() -> Any:
    with mock_server(EXAMPLES, "--seed", "3") as url:
        yield url


def test_the_first_valid_named_example_is_the_default_answer(examples_url: str) -> None:
    answer = httpx.get(f"{examples_url}/pets/1", headers=AUTH)
    assert answer.status_code == 200
    # `broken` comes first in the document but is not a valid Pet: it is never served.
    assert answer.json() == {"id": 1, "name": "Tom", "kind": "cat", "tags": ["grey"]}
    assert "preference-applied" not in answer.headers


def test_prefer_example_chooses_a_named_example(examples_url: str) -> None:
    answer = httpx.get(f"{examples_url}/pets/1", headers={**AUTH, "Prefer": "example=dog"})
    assert answer.status_code == 200
    assert answer.json()["name"] == "Rex"
    assert answer.headers["preference-applied"] == "example=dog"
    wrong = httpx.get(f"{examples_url}/pets/1", headers={**AUTH, "Prefer": "example=broken"})
    assert wrong.json()["name"] == "Tom"  # an invalid example is not served, even when asked
    assert "preference-applied" not in wrong.headers


def test_prefer_code_chooses_a_declared_response(examples_url: str) -> None:
    answer = httpx.get(f"{examples_url}/pets/1", headers={**AUTH, "Prefer": "code=404"})
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no pet with this id", "error_code": "NOT_FOUND"}
    assert answer.headers["preference-applied"] == "code=404"
    # A status the operation does not declare is a preference it cannot honour: ignored.
    other = httpx.get(f"{examples_url}/pets/1", headers={**AUTH, "Prefer": "code=409"})
    assert other.status_code == 200
    assert "preference-applied" not in other.headers


def test_without_examples_the_data_is_generated_valid_and_stable(examples_url: str) -> None:
    document = load(EXAMPLES)
    first = httpx.get(f"{examples_url}/owners", headers=AUTH)
    assert first.status_code == 200
    assert_valid(document, response_schema("/owners", "get", "200"), first.json())
    assert httpx.get(f"{examples_url}/owners", headers=AUTH).json() == first.json()
    # `Prefer: dynamic=true` (Prism's), like --dynamic, makes fresh data for each request.
    fresh = [
        httpx.get(f"{examples_url}/owners", headers={**AUTH, "Prefer": "dynamic=true"}).json()
        for _ in range(3)
    ]
    for value in fresh:
        assert_valid(document, response_schema("/owners", "get", "200"), value)
    assert len({repr(value) for value in fresh}) > 1


def test_the_generated_runtime_guards_every_operation(examples_url: str) -> None:
    missing = httpx.get(f"{examples_url}/pets/1")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error_code"] == "UNAUTHENTICATED"
    wrong = httpx.get(f"{examples_url}/pets/1", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    invalid = httpx.get(f"{examples_url}/pets/0", headers=AUTH)  # minimum: 1
    assert invalid.status_code == 422
    assert_valid(load(EXAMPLES), response_schema("/pets/{pet_id}", "get", "422"), invalid.json())
    method = httpx.delete(f"{examples_url}/pets/1", headers=AUTH)
    assert method.status_code == 405
    assert method.headers["allow"] == "GET"


@pytest.mark.slow
def test_dynamic_mode_varies_and_the_seed_decides_the_static_data() -> None:
    with mock_server(EXAMPLES, "--dynamic") as url:
        bodies = {httpx.get(f"{url}/owners", headers=AUTH).text for _ in range(3)}
    assert len(bodies) > 1
    with mock_server(EXAMPLES, "--seed", "3") as url:
        again = httpx.get(f"{url}/owners", headers=AUTH).text
    with mock_server(EXAMPLES, "--seed", "4") as url:
        other = httpx.get(f"{url}/owners", headers=AUTH).text
    with mock_server(EXAMPLES, "--seed", "3") as url:
        assert httpx.get(f"{url}/owners", headers=AUTH).text == again
    assert other != again


@pytest.mark.slow
def test_the_seed_contract_is_mocked_with_its_declared_responses() -> None:
    document = load(SEED)
    with mock_server(SEED) as url:
        ok = httpx.post(f"{url}{CANCEL}", headers=AUTH)
        not_found = httpx.post(f"{url}{CANCEL}", headers={**AUTH, "Prefer": "code=404"})
        unauthenticated = httpx.post(f"{url}{CANCEL}")
        method = httpx.get(f"{url}{CANCEL}", headers=AUTH)
    path = "/workflows/{workflow_id}/runs/{run_id}/cancel"
    assert ok.status_code == 200
    assert not_found.status_code == 404
    assert_valid(document, response_schema(path, "post", "404"), not_found.json())
    assert unauthenticated.status_code == 401
    assert_valid(document, response_schema(path, "post", "401"), unauthenticated.json())
    assert method.status_code == 405
    assert method.headers["allow"] == "POST"


@pytest.mark.slow
def test_the_kitchen_sink_is_mocked_with_every_construct() -> None:
    document = load(KITCHEN)
    with mock_server(KITCHEN) as url:
        items = httpx.get(f"{url}/items", headers={"X-API-Key": MOCK_TOKEN})
        created = httpx.post(f"{url}/items", headers=AUTH, json={"name": "a", "quantity": 1})
        ranged = httpx.get(f"{url}/items", headers={**AUTH, "Prefer": "code=409"})
        invalid = httpx.get(f"{url}/items", params={"limit": 0}, headers=AUTH)
        deleted = httpx.delete(f"{url}/items/4", headers=AUTH)
        note = httpx.post(f"{url}/notes", headers=AUTH, data={"text": "hi"})
        public = httpx.get(f"{url}/public/status")
        blob = httpx.post(
            f"{url}/blobs",
            headers={**AUTH, "Content-Type": "application/octet-stream"},
            content=b"\x00\x01",
        )
    assert items.status_code == 200  # the API key alternative is accepted too
    assert_valid(document, response_schema("/items", "get", "200"), items.json())
    assert created.status_code == 201
    assert_valid(document, response_schema("/items", "post", "201"), created.json())
    # 409 falls in the declared `4XX` range: sent as 409 with the range's schema.
    assert ranged.status_code == 409
    assert_valid(document, response_schema("/items", "get", "4XX"), ranged.json())
    assert invalid.status_code == 422
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert note.status_code == 200
    assert note.headers["content-type"].startswith("text/plain")
    assert public.status_code == 200
    assert_valid(document, response_schema("/public/status", "get", "200"), public.json())
    assert blob.status_code == 201
    assert_valid(document, response_schema("/blobs", "post", "201"), blob.json())


CONFORMANT = [
    pytest.param(SEED, id="seed"),
    pytest.param(AGENTOS, id="agentos"),
    # Discriminated unions (a value that names no member is a declared 422) and multipart forms.
    pytest.param(REPO / "tests" / "specs" / "discriminated.yaml", id="discriminated"),
    pytest.param(REPO / "tests" / "specs" / "uploads.yaml", id="uploads"),
    *[pytest.param(path, id=path.stem) for path in CORPUS_SAMPLE],
]


@pytest.mark.slow
@pytest.mark.parametrize("spec", CONFORMANT)
def test_conform_against_the_mock_finds_nothing(spec: Path, tmp_path: Path) -> None:
    with mock_server(spec) as url:
        done = run_conform(
            spec,
            "--url",
            url,
            "--token",
            MOCK_TOKEN,
            "--max-examples",
            "10",
            "--seed",
            "1",
            "--report",
            tmp_path,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CONFORMANT: 0 findings" in done.stdout
    assert "untested" not in done.stdout


def sse_names(lines: Any) -> list[str]:
    return [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]


@pytest.mark.slow
def test_a_stream_is_served_when_accepted_and_ends_on_its_link() -> None:
    """Each event the item schema names, valid; WorkflowCancelled only after the cancel link."""
    document = load(AGENTOS)
    item_schema = document["paths"]["/workflows/{workflow_id}/runs"]["post"]["responses"]["200"][
        "content"
    ]["text/event-stream"]["itemSchema"]
    branches = [branch["properties"]["event"]["const"] for branch in item_schema["oneOf"]]
    start = "/workflows/demo/runs"
    with mock_server(AGENTOS) as url, httpx.Client(base_url=url, headers=AUTH) as client:
        whole = client.post(start, data={"message": "m"})
        with client.stream(
            "POST", start, data={"message": "m"}, headers={"Accept": "text/event-stream"}
        ) as reply:
            assert reply.headers["content-type"].startswith("text/event-stream")
            by_itself = sse_names(reply.iter_lines())
        with client.stream(
            "POST", start, data={"message": "m"}, headers={"Accept": "text/event-stream"}
        ) as reply:
            cancelled: list[str] = []
            for line in reply.iter_lines():
                cancelled += sse_names([line])
                if len(cancelled) == 2:
                    assert client.post(f"{start}/some-run/cancel").status_code == 200
    assert whole.headers["content-type"] == "application/json"  # the JSON alternative
    assert "WorkflowCancelled" in branches
    # One event per name the item schema allows, in its order, the link's terminal one kept back.
    assert by_itself == [name for name in branches if name != "WorkflowCancelled"]
    assert cancelled == [*by_itself[:2], "WorkflowCancelled"]
