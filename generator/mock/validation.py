"""Whether a value is valid against a schema of the document, as `jsonschema` judges it.

Every body the mock serves passes through here first: examples from the spec included, for a
spec's own examples can be wrong. OpenAPI 3.0 schemas are read as Draft 4 with `nullable` turned
into a `null` type; 3.1 schemas are JSON Schema 2020-12.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

DOCUMENT_URI = "urn:contract-mock:document"


class SchemaValidator:
    """Validates values against schemas found at JSON pointers of one OpenAPI document."""

    def __init__(self, document: Mapping[str, Any], *, openapi_30: bool) -> None:
        contents = _with_null_types(copy.deepcopy(dict(document))) if openapi_30 else document
        specification = DRAFT4 if openapi_30 else DRAFT202012
        resource = Resource.from_contents(contents, default_specification=specification)
        self.registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
        self.validator_class: Any = (
            jsonschema.Draft4Validator if openapi_30 else jsonschema.Draft202012Validator
        )

    def is_valid(self, pointer: str, value: Any) -> bool:
        """Whether `value` is valid against the schema at `pointer` (`/paths/...`)."""
        schema = {"$ref": f"{DOCUMENT_URI}#{pointer}"}
        try:
            validator = self.validator_class(schema, registry=self.registry)
            return bool(validator.is_valid(value))
        except Exception:  # an unresolvable or unreadable schema: nothing can be shown valid
            return False


def _with_null_types(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema: `null` added to `type` (and to `enum`)."""
    if isinstance(node, list):
        return [_with_null_types(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _with_null_types(value) for key, value in node.items()}
    if result.get("nullable") is True:
        declared = result.get("type")
        if isinstance(declared, str):
            result["type"] = [declared, "null"]
        if isinstance(result.get("enum"), list) and None not in result["enum"]:
            result["enum"] = [*result["enum"], None]
        if "type" not in result and any(k in result for k in ("allOf", "oneOf", "anyOf", "$ref")):
            result = {"anyOf": [{"type": "null"}, {k: v for k, v in result.items()}]}
    return result
