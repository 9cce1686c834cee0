"""Validate a loaded document against the OpenAPI 3.0 / 3.1 / 3.2 specification.

openapi-spec-validator reports two kinds of problem: structural ones, located by their path in
the document, and semantic ones found inside schemas (a `default` that does not match its
schema, a `pattern` that is not a Python regex), which it reports without a location. We locate
the latter ourselves and report values that do not match their schema as warnings: real-world
documents are full of them and they do not change what an API accepts.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from typing import Any

from openapi_spec_validator import (
    OpenAPIV30SpecValidator,
    OpenAPIV31SpecValidator,
    OpenAPIV32SpecValidator,
)

from generator.spec.errors import Diagnostic, InvalidSpec
from generator.spec.loader import LoadedSpec
from generator.spec.pointers import escape_pointer, resolve_pointer

MAX_REPORTED = 50
MAX_MESSAGE = 160


def validate(spec: LoadedSpec, *, lenient: bool = False) -> tuple[Diagnostic, ...]:
    """Raise InvalidSpec listing every error; return the warnings of a usable document.

    `lenient` (generation, not `contract validate`) reports the errors HARMLESS lists as warnings.
    """
    problems = list(find_problems(spec))
    if lenient and any(p.level == "error" for p in problems):
        problems = _harmless_as_warnings(spec, problems)
    errors = tuple(p for p in problems if p.level == "error")
    if errors:
        raise InvalidSpec(errors[0].message, errors + tuple(p for p in problems if p not in errors))
    return tuple(problems)


# The problems that cannot change the generated code, by the keyword that holds them: `generate`
# and `check` report them as located warnings, `contract validate` as errors. Nothing else.
HARMLESS: dict[str, str] = {
    "example": "an `example` of any shape: documentation only, never read by the generator",
    "examples": "`examples` of any shape (a list where a map belongs, a bare value for an Example"
    " object, `examples` in a 3.0 schema): documentation only",
    "required": "a `required` list with duplicate entries: a set, the duplicates mean nothing",
    "pattern": "a `pattern` string the validator's regex engine rejects: generation keeps it if"
    " the generated server compiles it, and drops it with a located warning if not"
    " (codegen/patterns.py)",
}
# Objects whose keys are names chosen by the author, not keywords (a property called "example").
_NAME_MAPS = frozenset(
    {"properties", "patternProperties", "definitions", "$defs", "dependentSchemas", "schemas"}
    | {"responses", "parameters", "requestBodies", "headers", "securitySchemes", "links"}
    | {"callbacks", "pathItems", "paths", "webhooks", "content", "encoding", "variables"}
    | {"mapping", "examples"}
)
# Values that are data, not schema: left untouched.
_DATA_KEYWORDS = frozenset({"default", "enum", "const"})
_HARMLESS_HINT = "cannot change the generated code; `contract validate` reports it as an error"


def _harmless_as_warnings(spec: LoadedSpec, problems: list[Diagnostic]) -> list[Diagnostic]:
    """Validate again without the HARMLESS problems: an error that is gone was one of them.

    An error is matched by its pointer (by its message when it has none), so one that shares its
    place with a problem that remains stays an error; errors of the cleaned document stay errors.
    """
    cleaned = dataclasses.replace(spec, document=without_harmless(spec.document))
    remaining = [p for p in find_problems(cleaned) if p.level == "error"]
    remaining_keys = {p.pointer or p.message for p in remaining}
    result: list[Diagnostic] = []
    for problem in problems:
        if problem.level == "error" and (problem.pointer or problem.message) not in remaining_keys:
            found: set[str] = set()
            without_harmless(resolve_pointer(spec.document, problem.pointer), found=found)
            hint = f"{', '.join(sorted(found))}: {_HARMLESS_HINT}" if found else _HARMLESS_HINT
            problem = dataclasses.replace(problem, level="warning", hint=hint)
        elif problem.level == "error":
            continue  # reported below, as the cleaned document has it
        result.append(problem)
    return remaining + result


def without_harmless(node: Any, names: bool = False, found: set[str] | None = None) -> Any:
    """A copy without the problems HARMLESS lists (`names`: the keys of `node` are names).

    The HARMLESS keywords that were removed or changed are added to `found`.
    """
    found = set() if found is None else found
    if isinstance(node, list):
        return [without_harmless(item, found=found) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if names:
            result[key] = without_harmless(value, found=found)
            continue
        if key in ("example", "examples") or (key == "pattern" and isinstance(value, str)):
            found.add(key)  # a pattern string's only possible problem: no regex to the validator
            continue
        if key == "required" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            result[key] = list(dict.fromkeys(value))
            if len(result[key]) < len(value):
                found.add("duplicate required entries")
        elif key in _DATA_KEYWORDS or str(key).startswith("x-"):
            result[key] = value
        else:
            result[key] = without_harmless(value, names=key in _NAME_MAPS, found=found)
    return result


class _IdSet(set[int]):
    """A set that answers `append`: the validator keeps visited schema ids in a list, which makes
    validating a large document quadratic (GitHub's: 8 s in `in` checks alone)."""

    def append(self, item: int) -> None:
        self.add(item)


def _with_id_sets(base: Any) -> Any:
    class FastSchemaValidator(base):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.visited_schema_ids = _IdSet()
            self.meta_checked_schema_ids = _IdSet()

    return FastSchemaValidator


def _fast(spec_validator: Any) -> Any:
    keyword_validators = dict(spec_validator.keyword_validators)
    keyword_validators["schema"] = _with_id_sets(keyword_validators["schema"])
    return type(
        spec_validator.__name__, (spec_validator,), {"keyword_validators": keyword_validators}
    )


_VALIDATORS = {
    "3.0": _fast(OpenAPIV30SpecValidator),
    "3.1": _fast(OpenAPIV31SpecValidator),
    "3.2": _fast(OpenAPIV32SpecValidator),
}


def find_problems(spec: LoadedSpec) -> Iterable[Diagnostic]:
    version = spec.version[:3] if spec.version[:3] in _VALIDATORS else "3.0"
    document = spec.document
    if version == "3.1":
        document = item_schemas_as_schemas(document)
    errors = _VALIDATORS[version](document).iter_errors()
    seen: set[tuple[str, str]] = set()
    while len(seen) < MAX_REPORTED:
        try:
            error = next(errors)
        except StopIteration:
            return
        except Exception as exc:  # the validator's semantic pass can trip over broken input
            if not seen:
                yield Diagnostic(str(spec.path), "", f"document could not be validated: {exc!r}")
            return
        diagnostic = _duplicate_operation_id(spec, error) or _to_diagnostic(spec, error)
        key = (diagnostic.pointer, diagnostic.message)
        if key not in seen:
            seen.add(key)
            yield diagnostic


def item_schemas_as_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """A 3.1 document as its validator can read it: `itemSchema` (3.2, which FastAPI also writes
    into 3.1 documents) becomes the media type's `schema` when it has none, so it is validated
    as a schema; beside a `schema` it is dropped. The document itself is not changed."""

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        result = {key: convert(value) for key, value in node.items()}
        content = result.get("content")
        if isinstance(content, dict):
            for media_type, media in list(content.items()):
                if isinstance(media, dict) and "itemSchema" in media:
                    media = dict(media)
                    item_schema = media.pop("itemSchema")
                    media.setdefault("schema", item_schema)
                    content[media_type] = media
        return result

    if not _has_item_schema(document):
        return document  # the common case: no copy
    converted: dict[str, Any] = convert(document)
    return converted


def _has_item_schema(document: dict[str, Any]) -> bool:
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "itemSchema" in node:
                return True
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return False


def _duplicate_operation_id(spec: LoadedSpec, error: Any) -> Diagnostic | None:
    """The validator names only one of the two operations; name both places."""
    if type(error).__name__ != "DuplicateOperationIDError":
        return None
    match = re.search(r"Operation ID '(.*)' for", str(getattr(error, "message", "")))
    if match is None:
        return None
    operation_id = match.group(1)
    places = [
        f"/paths/{escape_pointer(path)}/{method}"
        for path, item in (spec.document.get("paths") or {}).items()
        if isinstance(item, dict)
        for method, operation in item.items()
        if isinstance(operation, dict) and operation.get("operationId") == operation_id
    ]
    if len(places) < 2:
        return None
    return Diagnostic(
        str(spec.path),
        places[1],
        f"operationId {operation_id!r} is used twice",
        f"also at {places[0]}",
    )


_TOP_LEVEL = frozenset(
    {"openapi", "info", "servers", "paths", "components", "security", "tags", "externalDocs"}
    | {"webhooks", "jsonSchemaDialect"}
)


def _to_diagnostic(spec: LoadedSpec, error: Any) -> Diagnostic:
    parts = [str(part) for part in getattr(error, "absolute_path", None) or []]
    message = _short(str(getattr(error, "message", error)).splitlines()[0])
    if parts and parts[0] in _TOP_LEVEL:
        pointer = "".join(f"/{escape_pointer(part)}" for part in parts)
        return Diagnostic(str(spec.path), pointer, message)
    return _locate_semantic(spec, error, message, parts)


def _locate_semantic(spec: LoadedSpec, error: Any, message: str, relative: list[str]) -> Diagnostic:
    """A problem inside some schema, with its path relative to that schema (or none at all)."""
    validator = getattr(error, "validator", None)
    instance = getattr(error, "instance", None)
    schema_path = list(getattr(error, "schema_path", None) or [])
    suffix = "".join(f"/{escape_pointer(part)}" for part in relative)

    def holds_instance(node: dict[str, Any]) -> bool:
        value: Any = node
        for part in relative:
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return False
        return _same(value, instance)

    if validator == "format" and getattr(error, "validator_value", None) == "regex":
        pointer = _find(spec.document, holds_instance, suffix)
        return Diagnostic(
            str(spec.path),
            pointer,
            f"pattern {instance!r} is not a Python regular expression",
            "the generated server may reject it",
            level="warning",
        )
    if schema_path[:1] and isinstance(validator, str) and validator not in ("$ref",):

        def has_default(node: dict[str, Any]) -> bool:
            return "default" in node and _same(node["default"], instance)

        pointer = _find(spec.document, has_default, "/default")
        if pointer:
            return Diagnostic(
                str(spec.path),
                pointer,
                f"default value does not match its schema: {message}",
                level="warning",
            )
    if relative:
        pointer = _find(spec.document, holds_instance, suffix)
        if pointer:
            return Diagnostic(str(spec.path), pointer, message)
    return Diagnostic(str(spec.path), "", f"in a schema: {message}")


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _find(document: Any, predicate: Any, suffix: str) -> str:
    for pointer, node in _walk(document, ""):
        if predicate(node):
            return pointer + suffix
    return ""


def _walk(node: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    stack: list[tuple[Any, str]] = [(node, pointer)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, dict):
            yield where, current
            for key in reversed(list(current)):
                stack.append((current[key], f"{where}/{escape_pointer(str(key))}"))
        elif isinstance(current, list):
            for index in reversed(range(len(current))):
                stack.append((current[index], f"{where}/{index}"))


def _short(message: str) -> str:
    """jsonschema starts many messages with the whole offending value; keep what matters."""
    if len(message) <= MAX_MESSAGE:
        return message
    for marker in (" is not valid under any of the given schemas", " is not ", " does not "):
        index = message.rfind(marker)
        if index > 0:
            return "the value" + message[index:][: MAX_MESSAGE - 9]
    return message[: MAX_MESSAGE - 1] + "…"
