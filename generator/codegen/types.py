"""The types of the IR: a small hierarchy that renders itself and says which models it uses.

`parse.py` builds them from schemas; `render.py` and the templates print them (`str(t)`), ask
what a parameter can be parsed as, and collect the model classes to import, without ever
reading a rendered type expression back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

ScalarName = Literal["str", "int", "float", "bool", "bytes"]


class TypeRef:
    """A Python type expression of the generated code."""

    __slots__ = ()

    def render(self) -> str:
        raise NotImplementedError

    def models(self) -> frozenset[str]:
        """The model classes (of models.py) the expression names."""
        return frozenset()

    def uses_any(self) -> bool:
        """Whether the expression needs `typing.Any`."""
        return False

    def aliases(self) -> frozenset[Discriminated]:
        """The discriminated unions (aliases of responses.py) the expression names."""
        return frozenset()

    def uses_upload(self) -> bool:
        """Whether the expression needs `UploadFile`."""
        return False

    def without_none(self) -> TypeRef:
        """The type with `None` left out of it (itself when it is not optional)."""
        return self

    @property
    def is_optional(self) -> bool:
        return False

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True, slots=True)
class Scalar(TypeRef):
    name: ScalarName

    def render(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class NoneType(TypeRef):
    def render(self) -> str:
        return "None"


@dataclass(frozen=True, slots=True)
class AnyType(TypeRef):
    def render(self) -> str:
        return "Any"

    def uses_any(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class JsonObject(TypeRef):
    """An object schema without a model of its own."""

    def render(self) -> str:
        return "dict[str, Any]"

    def uses_any(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class ListOf(TypeRef):
    item: TypeRef

    def render(self) -> str:
        return f"list[{self.item.render()}]"

    def models(self) -> frozenset[str]:
        return self.item.models()

    def uses_any(self) -> bool:
        return self.item.uses_any()

    def aliases(self) -> frozenset[Discriminated]:
        return self.item.aliases()

    def uses_upload(self) -> bool:
        return self.item.uses_upload()


@dataclass(frozen=True, slots=True)
class ModelRef(TypeRef):
    """A class of models.py, with the schema it was generated from."""

    class_name: str
    pointer: str  # e.g. `#/components/schemas/WorkflowRunResponse`

    def render(self) -> str:
        return self.class_name

    def models(self) -> frozenset[str]:
        return frozenset({self.class_name})


@dataclass(frozen=True, slots=True)
class ClassRef(TypeRef):
    """A class the generated module defines itself (an SSE event class of responses.py)."""

    class_name: str

    def render(self) -> str:
        return self.class_name


@dataclass(frozen=True, slots=True)
class Upload(TypeRef):
    """A file part of a multipart body: Starlette's `UploadFile` (re-exported by runtime.py)."""

    def render(self) -> str:
        return "UploadFile"

    def uses_upload(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class UnionOf(TypeRef):
    members: tuple[TypeRef, ...]  # two or more, `None` last when present

    def render(self) -> str:
        return " | ".join(member.render() for member in self.members)

    def models(self) -> frozenset[str]:
        return frozenset().union(*(member.models() for member in self.members))

    def uses_any(self) -> bool:
        return any(member.uses_any() for member in self.members)

    def aliases(self) -> frozenset[Discriminated]:
        return frozenset().union(*(member.aliases() for member in self.members))

    def uses_upload(self) -> bool:
        return any(member.uses_upload() for member in self.members)

    def without_none(self) -> TypeRef:
        rest = tuple(m for m in self.members if not isinstance(m, NoneType))
        return rest[0] if len(rest) == 1 else UnionOf(rest)

    @property
    def is_optional(self) -> bool:
        return any(isinstance(member, NoneType) for member in self.members)


@dataclass(frozen=True, slots=True)
class Discriminated(TypeRef):
    """A `oneOf`/`anyOf` of models with a `discriminator`: a pydantic discriminated union.

    It is defined once, as an alias of responses.py, and named by that alias everywhere:

        AddPetBody: TypeAlias = Annotated[
            Annotated[Cat, pydantic.Tag("Cat")] | Annotated[Dog, pydantic.Tag("Dog")],
            discriminated_by("pet_type", {"cat": "Cat", "dog": "Dog"}),
        ]

    The tags are the member classes; `tags` maps each discriminator value to one of them.
    (`pydantic.Tag`, not `Tag`: a document may well have a model called `Tag`.)
    """

    alias: str
    property_name: str
    members: tuple[ModelRef, ...]
    tags: tuple[tuple[str, str], ...]  # (discriminator value, member class), in spec order

    def render(self) -> str:
        return self.alias

    def aliases(self) -> frozenset[Discriminated]:
        return frozenset({self})

    def member_models(self) -> frozenset[str]:
        """The model classes the alias's definition names (what responses.py imports)."""
        return frozenset(member.class_name for member in self.members)


STR = Scalar("str")
ANY = AnyType()
NONE = NoneType()
UPLOAD = Upload()


def union(members: Iterable[TypeRef], *, nullable: bool = False) -> TypeRef:
    """`A | B`, flattened and without repeats; `Any` absorbs the rest; `None` goes last."""
    flat: list[TypeRef] = []
    for member in members:
        flat.extend(member.members if isinstance(member, UnionOf) else (member,))
    if nullable:
        flat.append(NONE)
    unique = list(dict.fromkeys(flat))
    if ANY in unique:
        return ANY
    if NONE in unique:
        unique = [m for m in unique if m != NONE] + [NONE]
    return unique[0] if len(unique) == 1 else UnionOf(tuple(unique))


def optional(annotation: TypeRef) -> TypeRef:
    """`T | None`; `Any` and types already optional stay as they are."""
    if annotation.is_optional or isinstance(annotation, AnyType):
        return annotation
    return union([annotation], nullable=True)


def models_of(annotations: Iterable[TypeRef | None]) -> list[str]:
    """The model classes the annotations use, sorted: the imports of a module."""
    found: set[str] = set()
    for annotation in annotations:
        if annotation is not None:
            found |= annotation.models()
    return sorted(found)


def aliases_of(annotations: Iterable[TypeRef | None]) -> list[Discriminated]:
    """The discriminated unions the annotations name, sorted by alias."""
    found: set[Discriminated] = set()
    for annotation in annotations:
        if annotation is not None:
            found |= annotation.aliases()
    return sorted(found, key=lambda alias: alias.alias)


def any_uses_any(annotations: Iterable[TypeRef | None]) -> bool:
    return any(annotation is not None and annotation.uses_any() for annotation in annotations)
