"""`oneOf`/`anyOf` of models with a `discriminator` become pydantic discriminated unions.

The member models may type the discriminator property as a plain string (datamodel-code-generator
keeps it so when the union is inline), so the union is tagged by class and the value looked up by
the generated runtime: the member is chosen by the discriminator, not by trying each in turn.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import httpx
import pytest

from generator.codegen.pipeline import generate_package
from generator.mock.data import DataGenerator, discriminator_value
from tests.conftest import REPO, SHARED
from tests.support.mock_proxy import MOCK_TOKEN, mock_server

SPEC = REPO / "tests" / "specs" / "discriminated.yaml"
EDGE = SHARED / "corpus" / "edge" / "3.0" / "discriminators.yaml"
AUTH = {"Authorization": f"Bearer {MOCK_TOKEN}"}


def test_an_inline_union_with_a_mapping_is_one_alias_shared_by_body_and_response() -> None:
    files = generate_package(SPEC, "vehicles")
    responses, api, app = files["responses.py"], files["api.py"], files["app.py"]
    assert (
        "AddVehicleBody: TypeAlias = Annotated[\n"
        '    Annotated[Car, pydantic.Tag("Car")] | Annotated[Bike, pydantic.Tag("Bike")],\n'
        '    discriminated_by("kind", {"car": "Car", "bike": "Bike"}),\n'
        "]"
    ) in responses
    assert "    body: AddVehicleBody\n" in responses  # the 201 body: the same union, one alias
    assert "body: AddVehicleBody," in api
    assert "TypeAdapter(AddVehicleBody)" in app
    # Without a mapping, each member is selected by its schema name.
    assert 'discriminated_by("kind", {"Car": "Car", "Bike": "Bike"})' in responses
    assert "body: list[ListVehicles200BodyItem]" in responses


def test_the_corpus_cases_map_values_as_openapi_says() -> None:
    files = generate_package(EDGE, "edge_discriminators")
    responses, api, models = files["responses.py"], files["api.py"], files["models.py"]
    # A mapping whose values are schema names, not references.
    assert '{"Option One": "OptionOneNoDisc", "Option Two": "OptionTwoNoDisc"}' in responses
    # A member that no mapping entry names is selected by its schema name.
    assert '{"CatNoDisc": "CatNoDisc", "DogNoDisc": "DogNoDisc"}' in responses
    # A union without a discriminator stays a plain union.
    assert "body: Cat | Dog | None = None" in api
    # An inline object body that also has the union is modelled whole (inline_bodies), and
    # datamodel-code-generator makes that model's union discriminated itself.
    assert "body: PatchMappingWithDuplicateSchemasBody | None = None" in api
    assert 'Field(discriminator="discrimValue")' in models


@pytest.fixture(scope="module")
def vehicles_url() -> Iterator[str]:
    with mock_server(SPEC, "--seed", "5") as url:
        yield url


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"kind": "car", "doors": 4}, 201, None),
        ({"kind": "bike", "gears": 21}, 201, None),
        # A bike's fields under the car's value: the car is validated, and it has no doors.
        ({"kind": "car", "gears": 21}, 422, "doors"),
        ({"kind": "boat", "doors": 4}, 422, "`kind` must be one of 'car', 'bike'"),
        ({"doors": 4}, 422, "`kind` must be one of 'car', 'bike'"),
        # Schema names are not values when a mapping covers the member.
        ({"kind": "Car", "doors": 4}, 422, "`kind` must be one of 'car', 'bike'"),
    ],
)
def test_the_request_body_is_validated_against_the_member_its_discriminator_names(
    vehicles_url: str, body: dict[str, object], status: int, detail: str | None
) -> None:
    answer = httpx.post(f"{vehicles_url}/vehicles", json=body, headers=AUTH)
    assert answer.status_code == status, answer.text
    if detail is not None:
        assert answer.json()["error_code"] == "VALIDATION_ERROR"
        assert detail in answer.json()["detail"]


def test_generated_responses_carry_the_value_of_the_member_they_are(vehicles_url: str) -> None:
    created = httpx.post(f"{vehicles_url}/vehicles", json={"kind": "car", "doors": 3}, headers=AUTH)
    assert created.status_code == 201
    shape = {"car": "doors", "bike": "gears"}
    assert shape[created.json()["kind"]] in created.json()
    listed = httpx.get(f"{vehicles_url}/vehicles", headers={**AUTH, "Prefer": "dynamic=true"})
    assert listed.status_code == 200
    by_name = {"Car": "doors", "Bike": "gears"}
    for item in listed.json():
        assert by_name[item["kind"]] in item


def test_mock_data_names_the_member_it_was_generated_from() -> None:
    """Whatever the seed, a generated value carries its member's value, never a random one."""
    document = {
        "components": {
            "schemas": {
                "Car": {"type": "object", "required": ["kind"], "properties": {"kind": {}}},
                "Bike": {"type": "object", "required": ["kind"], "properties": {"kind": {}}},
            }
        }
    }
    union = {
        "oneOf": [{"$ref": "#/components/schemas/Car"}, {"$ref": "#/components/schemas/Bike"}],
        "discriminator": {"propertyName": "kind", "mapping": {"c": "Car"}},
    }
    generator = DataGenerator(document, openapi_30=True)
    seen = {generator.value(union, random.Random(seed))["kind"] for seed in range(20)}
    assert seen == {"c", "Bike"}
    assert discriminator_value(union["discriminator"], {"type": "object"}) is None
    assert discriminator_value(None, union["oneOf"][0]) is None


def test_a_model_called_tag_does_not_shadow_pydantic_tag(vehicles_url: str) -> None:
    tags = httpx.get(f"{vehicles_url}/tags", headers=AUTH)  # the package imported and serves
    assert tags.status_code == 200
    assert all(set(tag) == {"name"} for tag in tags.json())


def test_api_and_app_import_the_alias_from_responses() -> None:
    """The alias lives in responses.py: api.py and app.py import it from there, nothing else."""
    files = generate_package(SPEC, "vehicles")
    assert "from .responses import AddVehicleBody" in files["app.py"]
    imported = "AddVehicleBody, AddVehicleResponse, ListTagsResponse, ListVehiclesResponse"
    assert f"from .responses import {imported}\n" in files["api.py"]
    assert "AddVehicleBody" not in files["api.py"].split("from .responses")[0]
