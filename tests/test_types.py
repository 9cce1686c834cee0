"""The IR's types render themselves and name the models they use; nothing reads text back."""

from __future__ import annotations

from generator.codegen import ir, types
from generator.codegen.render import parameter_annotation

INT = types.Scalar("int")
PET = types.ModelRef("Pet", "#/components/schemas/Pet")
# A class whose name is also a word in a literal: found by the type, never by a regex.
ANY_NAMED = types.ModelRef("Any_", "#/components/schemas/Any")


def test_a_union_flattens_dedupes_and_puts_none_last() -> None:
    nested = types.union([PET, types.NONE])
    union = types.union([nested, INT, PET])
    assert str(union) == "Pet | int | None"
    assert union.is_optional and str(union.without_none()) == "Pet | int"
    assert types.union([INT, types.ANY, PET]) == types.ANY
    assert types.union([INT]) == INT


def test_optional_leaves_any_and_optional_types_alone() -> None:
    assert str(types.optional(PET)) == "Pet | None"
    assert types.optional(types.ANY) == types.ANY
    once = types.optional(PET)
    assert types.optional(once) == once


def test_models_and_any_are_read_from_the_types() -> None:
    listed = types.ListOf(types.union([PET, ANY_NAMED]))
    assert types.models_of([listed, None, types.JsonObject()]) == ["Any_", "Pet"]
    assert not types.any_uses_any([listed, INT])
    assert types.any_uses_any([types.ListOf(types.JsonObject())])


def parameter(annotation: types.TypeRef, location: str = "query", **extra: object) -> ir.Parameter:
    return ir.Parameter(
        wire_name="p",
        python_name="p",
        location=location,  # type: ignore[arg-type]
        required=bool(extra.get("required", True)),
        annotation=annotation,
        choices=extra.get("choices", ()),  # type: ignore[arg-type]
    )


def test_a_parameter_is_parsed_as_a_scalar_a_list_of_them_or_text() -> None:
    assert parameter_annotation(parameter(INT)) == "int"
    assert parameter_annotation(parameter(types.ListOf(INT))) == "list[int]"
    assert parameter_annotation(parameter(types.ListOf(PET))) == "list[str]"
    assert parameter_annotation(parameter(PET)) == "str"
    assert parameter_annotation(parameter(types.Scalar("bytes"))) == "str"
    assert parameter_annotation(parameter(types.ListOf(INT), "path")) == "str"
    assert parameter_annotation(parameter(types.optional(INT), required=False)) == "int | None"
    assert parameter_annotation(parameter(types.STR, choices=("a", "b"))) == "Literal['a', 'b']"
