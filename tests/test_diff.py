"""`contract diff`: every classification rule, one case each, then the engine's behaviour.

Each rule case changes one thing in a small document and asserts the exact list of rule ids the
diff reports, so a rule that fires too much or not at all fails its case.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator.diff import render as diff_render
from generator.diff.render import DiffResult, render_json, render_markdown, render_text
from generator.diff.rules import (
    BREAKING,
    NON_BREAKING,
    REQUEST_SUBJECTS,
    RESPONSE_SUBJECTS,
    RULES,
    WARN,
    Change,
    subject_rule,
)
from generator.diff.walk import compare_documents

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

Doc = dict[str, Any]


def ids(old: Doc, new: Doc) -> list[str]:
    return [change.id for change in compare_documents(old, new)]


# -- the schema rules: every subject × every aspect ---------------------------------------------

SUBJECT_DOC = {"openapi": "3.1.0", "info": {"title": "T", "version": "1"}}


def placed(subject: str, schema: Any) -> Doc:
    """A one-operation document with `schema` where `subject` names it."""
    operation: Doc = {"operationId": "make_thing", "responses": {"204": {"description": "ok"}}}
    if subject == "request-parameter":
        operation["parameters"] = [{"name": "p", "in": "query", "schema": schema}]
    elif subject == "request-item":
        operation["requestBody"] = {"content": {"application/jsonl": {"itemSchema": schema}}}
    elif subject == "response-item":
        stream = {"text/event-stream": {"itemSchema": schema}}
        operation["responses"] = {"200": {"description": "ok", "content": stream}}
    elif subject in ("request-body", "request-property"):
        body = (
            schema if subject == "request-body" else {"type": "object", "properties": {"p": schema}}
        )
        operation["requestBody"] = {"content": {"application/json": {"schema": body}}}
    else:
        response: Doc = {"description": "ok"}
        if subject == "response-header":
            response["headers"] = {"X-P": {"schema": schema}}
        else:
            body = (
                schema
                if subject == "response-body"
                else {"type": "object", "required": ["p"], "properties": {"p": schema}}
            )
            response["content"] = {"application/json": {"schema": body}}
        operation["responses"] = {"200": response}
    return {**SUBJECT_DOC, "paths": {"/things": {"post": operation}}}


def _bound(kind: str, keyword: str, stricter: Any, looser: Any) -> dict[str, tuple[Doc, Doc]]:
    base: Doc = {"type": kind}
    if kind == "array":
        base["items"] = {"type": "string"}
    name = {
        "maxLength": "max-length",
        "maximum": "maximum",
        "exclusiveMaximum": "exclusive-maximum",
        "maxItems": "max-items",
        "maxProperties": "max-properties",
        "minLength": "min-length",
        "minimum": "minimum",
        "exclusiveMinimum": "exclusive-minimum",
        "minItems": "min-items",
        "minProperties": "min-properties",
        "minContains": "min-contains",
        "maxContains": "max-contains",
    }[keyword]
    loose, strict = {**base, keyword: looser}, {**base, keyword: stricter}
    return {f"{name}-tightened": (loose, strict), f"{name}-relaxed": (strict, loose)}


STRING: Doc = {"type": "string"}
ARRAY: Doc = {"type": "array", "items": {"type": "string"}}
OBJECT: Doc = {"type": "object"}


def _added_removed(name: str, base: Doc, keyword: str, value: Any) -> dict[str, tuple[Doc, Doc]]:
    """`<name>-added` (base → base with keyword) and `<name>-removed` (the reverse)."""
    with_it = {**base, keyword: value}
    return {f"{name}-added": (base, with_it), f"{name}-removed": (with_it, base)}


# JSON Schema 2020-12 keywords: (rule name, the schema it goes in, keyword, a restricting value)
JSON_SCHEMA_2020: list[tuple[str, Doc, str, Any]] = [
    ("contains", ARRAY, "contains", {"const": "a"}),
    ("then", STRING, "then", {"minLength": 2}),
    ("else", STRING, "else", {"minLength": 2}),
    ("property-names", OBJECT, "propertyNames", {"pattern": "^a"}),
    ("unevaluated-items", ARRAY, "unevaluatedItems", False),
    ("unevaluated-properties", OBJECT, "unevaluatedProperties", False),
    ("content-schema", STRING, "contentSchema", {"type": "object"}),
    ("dependent-schema", OBJECT, "dependentSchemas", {"a": {"required": ["b"]}}),
    ("pattern-property", OBJECT, "patternProperties", {"^x-": STRING}),
    ("prefix-item", ARRAY, "prefixItems", [STRING]),
    ("if", STRING, "if", {"minLength": 1}),
    ("not", STRING, "not", {"const": "a"}),
    ("content-encoding", STRING, "contentEncoding", "base64"),
    ("content-media-type", STRING, "contentMediaType", "application/json"),
    ("dependent-required", OBJECT, "dependentRequired", {"a": ["b"]}),
    ("discriminator", OBJECT, "discriminator", {"propertyName": "kind"}),
]

SCHEMA_FIXTURES: dict[str, tuple[Any, Any]] = {
    "type-changed": (STRING, {"type": "integer"}),
    "type-widened": ({"type": "integer"}, {"type": "number"}),
    "type-narrowed": ({"type": "number"}, {"type": "integer"}),
    "became-nullable": (STRING, {"type": ["string", "null"]}),
    "became-not-nullable": ({"type": ["string", "null"]}, STRING),
    "enum-value-added": ({**STRING, "enum": ["a"]}, {**STRING, "enum": ["a", "b"]}),
    "enum-value-removed": ({**STRING, "enum": ["a", "b"]}, {**STRING, "enum": ["a"]}),
    "became-enum": (STRING, {**STRING, "enum": ["a"]}),
    "enum-removed": ({**STRING, "enum": ["a"]}, STRING),
    "default-changed": ({**STRING, "default": "a"}, {**STRING, "default": "b"}),
    "default-removed": ({**STRING, "default": "a"}, STRING),
    "default-added": (STRING, {**STRING, "default": "a"}),
    "deprecated": (STRING, {**STRING, "deprecated": True}),
    "reactivated": ({**STRING, "deprecated": True}, STRING),
    "union-branch-added": (
        {"oneOf": [STRING, {"type": "integer"}]},
        {"oneOf": [STRING, {"type": "integer"}, {"type": "boolean"}]},
    ),
    "union-branch-removed": (
        {"oneOf": [STRING, {"type": "integer"}, {"type": "boolean"}]},
        {"oneOf": [STRING, {"type": "integer"}]},
    ),
    "additional-properties-tightened": (
        {"type": "object"},
        {"type": "object", "additionalProperties": False},
    ),
    "additional-properties-relaxed": (
        {"type": "object", "additionalProperties": False},
        {"type": "object"},
    ),
    **_bound("string", "maxLength", 5, 10),
    **_bound("integer", "maximum", 5, 10),
    **_bound("number", "exclusiveMaximum", 5, 10),
    **_bound("array", "maxItems", 5, 10),
    **_bound("object", "maxProperties", 5, 10),
    **_bound("string", "minLength", 5, 1),
    **_bound("integer", "minimum", 5, 1),
    **_bound("number", "exclusiveMinimum", 5, 1),
    **_bound("array", "minItems", 5, 1),
    **_bound("object", "minProperties", 5, 1),
    "pattern-tightened": (STRING, {**STRING, "pattern": "^a"}),
    "pattern-relaxed": ({**STRING, "pattern": "^a"}, STRING),
    "pattern-changed": ({**STRING, "pattern": "^a"}, {**STRING, "pattern": "^b"}),
    "format-tightened": (STRING, {**STRING, "format": "email"}),
    "format-relaxed": ({**STRING, "format": "email"}, STRING),
    "format-changed": ({**STRING, "format": "email"}, {**STRING, "format": "uuid"}),
    "multiple-of-tightened": (
        {"type": "number", "multipleOf": 2},
        {"type": "number", "multipleOf": 4},
    ),
    "multiple-of-relaxed": (
        {"type": "number", "multipleOf": 4},
        {"type": "number", "multipleOf": 2},
    ),
    "multiple-of-changed": (
        {"type": "number", "multipleOf": 2},
        {"type": "number", "multipleOf": 3},
    ),
    "unique-items-tightened": (
        {"type": "array", "items": STRING},
        {"type": "array", "items": STRING, "uniqueItems": True},
    ),
    "unique-items-relaxed": (
        {"type": "array", "items": STRING, "uniqueItems": True},
        {"type": "array", "items": STRING},
    ),
    **_bound("array", "minContains", 5, 1),
    **_bound("array", "maxContains", 5, 10),
    "if-changed": ({**STRING, "if": {"minLength": 1}}, {**STRING, "if": {"minLength": 2}}),
    "not-changed": ({**STRING, "not": {"const": "a"}}, {**STRING, "not": {"const": "b"}}),
    "content-encoding-changed": (
        {**STRING, "contentEncoding": "base64"},
        {**STRING, "contentEncoding": "base64url"},
    ),
    "content-media-type-changed": (
        {**STRING, "contentMediaType": "application/json"},
        {**STRING, "contentMediaType": "image/png"},
    ),
    "discriminator-changed": (
        {**OBJECT, "discriminator": {"propertyName": "kind"}},
        {**OBJECT, "discriminator": {"propertyName": "type"}},
    ),
}
for _name, _base, _keyword, _value in JSON_SCHEMA_2020:
    SCHEMA_FIXTURES.update(_added_removed(_name, _base, _keyword, _value))


def _schema_cases() -> list[Any]:
    cases = []
    for subject in (*REQUEST_SUBJECTS, *RESPONSE_SUBJECTS):
        for aspect, (old, new) in SCHEMA_FIXTURES.items():
            rule = subject_rule(subject, aspect)
            if rule is not None:
                cases.append(pytest.param(subject, old, new, rule, id=rule))
    return cases


SCHEMA_CASES = _schema_cases()


@pytest.mark.parametrize(("subject", "old", "new", "rule"), SCHEMA_CASES)
def test_schema_rule(subject: str, old: Any, new: Any, rule: str) -> None:
    assert ids(placed(subject, old), placed(subject, new)) == [rule]


# -- the other rules: one small edit of a shared base document each ----------------------------

PATH = "/items/{item_id}"
ITEM_ID = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _json(ref: str) -> Doc:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


BASE: Doc = {
    "openapi": "3.1.0",
    "info": {"title": "Items", "version": "1.0.0"},
    "paths": {
        PATH: {
            "get": {
                "operationId": "get_item",
                "summary": "Get an item",
                "parameters": [ITEM_ID],
                "responses": {
                    "200": {"description": "ok", "content": _json("Item")},
                    "404": {"description": "not found"},
                },
                "security": [{"bearer": []}],
            },
            "post": {
                "operationId": "update_item",
                "parameters": [ITEM_ID],
                "requestBody": {"required": True, "content": _json("ItemInput")},
                "responses": {"200": {"description": "ok", "content": _json("Item")}},
                "security": [{"bearer": []}],
            },
        }
    },
    "components": {
        "schemas": {
            "Item": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "note": {"type": "string"},
                },
            },
            "ItemInput": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "note": {"type": "string"}},
            },
        },
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
        },
    },
}

Edit = Callable[[Doc], None]


def edited(edit: Edit, start: Doc = BASE) -> Doc:
    doc = copy.deepcopy(start)
    edit(doc)
    return doc


def get_op(doc: Doc) -> Doc:
    result: Doc = doc["paths"][PATH]["get"]
    return result


def post_op(doc: Doc) -> Doc:
    result: Doc = doc["paths"][PATH]["post"]
    return result


def item(doc: Doc) -> Doc:
    result: Doc = doc["components"]["schemas"]["Item"]
    return result


def item_input(doc: Doc) -> Doc:
    result: Doc = doc["components"]["schemas"]["ItemInput"]
    return result


def query(name: str, **extra: Any) -> Doc:
    return {"name": name, "in": "query", "schema": {"type": "string"}, **extra}


def ok_headers(doc: Doc) -> Doc:
    result: Doc = get_op(doc)["responses"]["200"].setdefault("headers", {})
    return result


# (rule, edit of OLD, edit of NEW, how many changes of that rule); every change reported must be
# of that rule.
RuleCase = tuple[str, Edit, Edit, int]


def nothing(doc: Doc) -> None:
    return None


RULE_CASES: list[RuleCase] = [
    # the document and its operations
    ("api-path-removed", nothing, lambda d: d["paths"].pop(PATH), 2),
    ("api-removed", nothing, lambda d: d["paths"][PATH].pop("post"), 1),
    (
        "api-path-added",
        nothing,
        lambda d: d["paths"].update(
            {"/health": {"get": {"responses": {"204": {"description": "ok"}}}}}
        ),
        1,
    ),
    (
        "api-added",
        nothing,
        lambda d: d["paths"][PATH].update(
            {"delete": {"parameters": [ITEM_ID], "responses": {"204": {"description": "ok"}}}}
        ),
        1,
    ),
    ("api-operation-id-changed", nothing, lambda d: get_op(d).update(operationId="fetch"), 1),
    ("api-deprecated", nothing, lambda d: get_op(d).update(deprecated=True), 1),
    ("api-reactivated", lambda d: get_op(d).update(deprecated=True), nothing, 1),
    ("api-security-added", lambda d: get_op(d).update(security=[]), nothing, 1),
    ("api-security-changed", nothing, lambda d: get_op(d).update(security=[{"key": []}]), 1),
    (
        "api-security-relaxed",
        nothing,
        lambda d: get_op(d).update(security=[{"bearer": []}, {"key": []}]),
        1,
    ),
    ("servers-changed", nothing, lambda d: d.update(servers=[{"url": "https://x"}]), 1),
    ("openapi-version-changed", nothing, lambda d: d.update(openapi="3.0.3"), 1),
    (
        "component-added",
        nothing,
        lambda d: d["components"]["schemas"].update(Unused={"type": "string"}),
        1,
    ),
    ("component-removed", lambda d: d["components"]["schemas"].update(Old={}), nothing, 1),
    ("documentation-changed", nothing, lambda d: get_op(d).update(summary="Fetch an item"), 1),
    ("extension-changed", nothing, lambda d: get_op(d).update({"x-internal": True}), 1),
    (
        "unclassified-change",
        nothing,
        lambda d: item(d)["properties"]["name"].update(xml={"name": "n"}),
        2,  # Item is the 200 body of both operations
    ),
    # parameters
    (
        "request-parameter-added-required",
        nothing,
        lambda d: get_op(d)["parameters"].append(query("q", required=True)),
        1,
    ),
    (
        "request-parameter-added-optional",
        nothing,
        lambda d: get_op(d)["parameters"].append(query("q")),
        1,
    ),
    (
        "request-parameter-removed",
        lambda d: get_op(d)["parameters"].append(query("q")),
        nothing,
        1,
    ),
    (
        "request-parameter-became-required",
        lambda d: get_op(d)["parameters"].append(query("q")),
        lambda d: get_op(d)["parameters"].append(query("q", required=True)),
        1,
    ),
    (
        "request-parameter-became-optional",
        lambda d: get_op(d)["parameters"].append(query("q", required=True)),
        lambda d: get_op(d)["parameters"].append(query("q")),
        1,
    ),
    (
        "request-parameter-location-changed",
        lambda d: get_op(d)["parameters"].append(query("q")),
        lambda d: get_op(d)["parameters"].append({**query("q"), "in": "header"}),
        1,
    ),
    (
        "request-parameter-deprecated",
        lambda d: get_op(d)["parameters"].append(query("q")),
        lambda d: get_op(d)["parameters"].append(query("q", deprecated=True)),
        1,
    ),
    (
        "request-parameter-serialization-changed",
        lambda d: get_op(d)["parameters"].append(query("q")),
        lambda d: get_op(d)["parameters"].append(query("q", explode=False)),
        1,
    ),
    # request bodies
    (
        "request-body-added-required",
        nothing,
        lambda d: get_op(d).update(requestBody={"required": True, "content": _json("ItemInput")}),
        1,
    ),
    (
        "request-body-added-optional",
        nothing,
        lambda d: get_op(d).update(requestBody={"content": _json("ItemInput")}),
        1,
    ),
    ("request-body-removed", nothing, lambda d: post_op(d).pop("requestBody"), 1),
    (
        "request-body-became-required",
        lambda d: post_op(d)["requestBody"].pop("required"),
        nothing,
        1,
    ),
    (
        "request-body-became-optional",
        nothing,
        lambda d: post_op(d)["requestBody"].pop("required"),
        1,
    ),
    (
        "request-body-media-type-added",
        nothing,
        lambda d: post_op(d)["requestBody"]["content"].update(
            {"application/xml": {"schema": {"type": "string"}}}
        ),
        1,
    ),
    (
        "request-body-media-type-removed",
        lambda d: post_op(d)["requestBody"]["content"].update(
            {"application/xml": {"schema": {"type": "string"}}}
        ),
        nothing,
        1,
    ),
    # request properties
    (
        "request-property-added-required",
        nothing,
        lambda d: (
            item_input(d)["properties"].update(size={"type": "integer"})
            or item_input(d)["required"].append("size")
        ),
        1,
    ),
    (
        "request-property-added-optional",
        nothing,
        lambda d: item_input(d)["properties"].update(size={"type": "integer"}),
        1,
    ),
    ("request-property-removed", nothing, lambda d: item_input(d)["properties"].pop("note"), 1),
    (
        "request-property-became-required",
        nothing,
        lambda d: item_input(d)["required"].append("note"),
        1,
    ),
    ("request-property-became-optional", nothing, lambda d: item_input(d).pop("required"), 1),
    (
        "request-property-became-read-only",
        nothing,
        lambda d: item_input(d)["properties"]["note"].update(readOnly=True),
        1,
    ),
    (
        "request-property-became-not-read-only",
        lambda d: item_input(d)["properties"]["note"].update(readOnly=True),
        nothing,
        1,
    ),
    # response properties (Item is the 200 body of both operations)
    (
        "response-property-added",
        nothing,
        lambda d: item(d)["properties"].update(size={"type": "integer"}),
        2,
    ),
    (
        "response-required-property-removed",
        nothing,
        lambda d: item(d)["properties"].pop("name") and item(d)["required"].remove("name"),
        2,
    ),
    (
        "response-optional-property-removed",
        nothing,
        lambda d: item(d)["properties"].pop("note"),
        2,
    ),
    (
        "response-property-became-optional",
        nothing,
        lambda d: item(d)["required"].remove("name"),
        2,
    ),
    (
        "response-property-became-required",
        nothing,
        lambda d: item(d)["required"].append("note"),
        2,
    ),
    (
        "response-property-became-write-only",
        nothing,
        lambda d: item(d)["properties"]["note"].update(writeOnly=True),
        2,
    ),
    (
        "response-property-became-not-write-only",
        lambda d: item(d)["properties"]["note"].update(writeOnly=True),
        nothing,
        2,
    ),
    # responses
    (
        "response-success-status-removed",
        nothing,
        lambda d: get_op(d)["responses"].pop("200"),
        1,
    ),
    (
        "response-non-success-status-removed",
        nothing,
        lambda d: get_op(d)["responses"].pop("404"),
        1,
    ),
    (
        "response-success-status-added",
        nothing,
        lambda d: get_op(d)["responses"].update({"202": {"description": "accepted"}}),
        1,
    ),
    (
        "response-non-success-status-added",
        nothing,
        lambda d: get_op(d)["responses"].update({"409": {"description": "conflict"}}),
        1,
    ),
    (
        "response-media-type-removed",
        lambda d: get_op(d)["responses"]["200"]["content"].update({"text/csv": {}}),
        nothing,
        1,
    ),
    (
        "response-media-type-added",
        nothing,
        lambda d: get_op(d)["responses"]["200"]["content"].update({"text/csv": {}}),
        1,
    ),
    (
        "response-header-added",
        nothing,
        lambda d: ok_headers(d).update({"X-Rate": {"schema": {"type": "integer"}}}),
        1,
    ),
    (
        "response-required-header-removed",
        lambda d: ok_headers(d).update({"X-Rate": {"required": True, "schema": {}}}),
        nothing,
        1,
    ),
    (
        "response-optional-header-removed",
        lambda d: ok_headers(d).update({"X-Rate": {"schema": {}}}),
        nothing,
        1,
    ),
    (
        "response-header-became-optional",
        lambda d: ok_headers(d).update({"X-Rate": {"required": True, "schema": {}}}),
        lambda d: ok_headers(d).update({"X-Rate": {"schema": {}}}),
        1,
    ),
    (
        "response-header-became-required",
        lambda d: ok_headers(d).update({"X-Rate": {"schema": {}}}),
        lambda d: ok_headers(d).update({"X-Rate": {"required": True, "schema": {}}}),
        1,
    ),
]


def _renamed_path(doc: Doc) -> None:
    path_item = doc["paths"].pop(PATH)
    for operation in path_item.values():
        operation["parameters"] = [{**ITEM_ID, "name": "id"}]
    doc["paths"]["/items/{id}"] = path_item


RULE_CASES.append(("request-path-parameter-renamed", nothing, _renamed_path, 2))
HOOK: Doc = {"post": {"requestBody": {"content": _json("Item")}, "responses": {"200": {}}}}
RULE_CASES += [
    ("webhook-added", nothing, lambda d: d.update(webhooks={"itemCreated": HOOK}), 1),
    ("webhook-removed", lambda d: d.update(webhooks={"itemCreated": HOOK}), nothing, 1),
    (
        "request-parameter-type-generalized",
        lambda d: get_op(d)["parameters"].append(query("q")),
        lambda d: get_op(d)["parameters"].append(
            {**query("q"), "schema": {"type": "array", "items": {"type": "string"}}}
        ),
        1,
    ),
]

ONE_OF_CASES = [subject_rule(subject, "wrapped-in-one-of") for subject in REQUEST_SUBJECTS]


@pytest.mark.parametrize("subject", REQUEST_SUBJECTS)
def test_a_request_wrapped_into_overlapping_one_of_is_breaking(subject: str) -> None:
    """Both alternatives accept a value with `a` and `b`: oneOf now rejects what was valid."""
    props = {"a": STRING, "b": STRING}
    old = {"type": "object", "required": ["a", "b"], "properties": props}
    new = {
        "oneOf": [
            {"type": "object", "required": ["a"], "properties": props},
            {"type": "object", "required": ["b"], "properties": props},
        ]
    }
    found = ids(placed(subject, old), placed(subject, new))
    assert f"{subject}-wrapped-in-one-of" in found
    assert RULES[f"{subject}-wrapped-in-one-of"].level == BREAKING
    # told apart by a const: a value matches one alternative only, as before
    tagged = copy.deepcopy(new)
    for branch, tag in zip(tagged["oneOf"], ("x", "y"), strict=True):
        branch["properties"] = {**props, "kind": {"const": tag}}
    assert f"{subject}-wrapped-in-one-of" not in ids(placed(subject, old), placed(subject, tagged))


def test_item_schemas_are_compared_beside_the_schema() -> None:
    """OpenAPI 3.2 `itemSchema`: each item of a stream, with its own subject."""
    event = {"type": "object", "required": ["event"], "properties": {"event": STRING}}
    old = placed("response-item", event)
    new = copy.deepcopy(old)
    stream = new["paths"]["/things"]["post"]["responses"]["200"]["content"]["text/event-stream"]
    stream["itemSchema"]["required"] = []
    stream["schema"] = {"type": "string"}  # the whole stream: compared as the body, as before
    changes = compare_documents(old, new)
    assert [c.id for c in changes] == [
        "response-property-became-optional",
        "response-body-type-narrowed",
    ]
    assert changes[0].location == 'response 200 (text/event-stream) items property "event"'


def test_the_query_method_is_walked() -> None:
    """OpenAPI 3.2's QUERY operations are compared like the others."""
    old = placed("request-body", STRING)
    old["paths"]["/things"]["query"] = old["paths"]["/things"].pop("post")
    new = copy.deepcopy(old)
    new["paths"]["/things"]["query"]["requestBody"]["content"]["application/json"]["schema"] = {
        "type": "integer"
    }
    assert [(c.id, c.operation) for c in compare_documents(old, new)] == [
        ("request-body-type-changed", "QUERY /things")
    ]
    gone = copy.deepcopy(old)
    gone["paths"]["/things"]["get"] = gone["paths"]["/things"].pop("query")
    assert sorted(ids(old, gone)) == ["api-added", "api-removed"]


def test_a_match_all_pattern_is_no_pattern() -> None:
    old, new = {**STRING, "pattern": "^a$"}, {**STRING, "pattern": ""}
    assert ids(placed("request-property", old), placed("request-property", new)) == [
        "request-property-pattern-relaxed"
    ]
    dotstar = {**STRING, "pattern": ".*"}
    assert ids(placed("request-body", STRING), placed("request-body", dotstar)) == []


def test_subschemas_are_compared_inside() -> None:
    """A change inside `contains` is judged like a change of the array's items."""
    old = {**ARRAY, "contains": {"type": "string", "maxLength": 10}}
    new = {**ARRAY, "contains": {"type": "string", "maxLength": 5}}
    assert ids(placed("request-body", old), placed("request-body", new)) == [
        "request-property-max-length-tightened"
    ]
    assert ids(placed("response-body", old), placed("response-body", new)) == [
        "response-property-max-length-tightened"
    ]


def test_a_path_parameter_the_old_template_lacked_is_not_moved() -> None:
    """OLD declares `{id}` in the path but names the parameter `item_id`: not a move."""
    old = copy.deepcopy(BASE)
    old["paths"] = {"/items/{id}": old["paths"].pop(PATH)}
    assert ids(old, BASE) == []


def test_a_form_query_scalar_to_an_array_of_integers_is_still_a_type_change() -> None:
    old = edited(lambda d: get_op(d)["parameters"].append(query("q")))
    new = edited(
        lambda d: get_op(d)["parameters"].append(
            {**query("q"), "schema": {"type": "array", "items": {"type": "integer"}}}
        )
    )
    assert ids(old, new) == ["request-parameter-type-changed"]


@pytest.mark.parametrize(
    ("rule", "old_edit", "new_edit", "count"), RULE_CASES, ids=[case[0] for case in RULE_CASES]
)
def test_rule(rule: str, old_edit: Edit, new_edit: Edit, count: int) -> None:
    assert ids(edited(old_edit), edited(new_edit)) == [rule] * count


def test_every_rule_has_a_case() -> None:
    covered = {case[0] for case in RULE_CASES}
    covered |= {param.values[3] for param in SCHEMA_CASES}
    covered |= {rule for rule in ONE_OF_CASES if rule is not None}
    assert sorted(set(RULES) - covered) == []
    assert sorted(covered - set(RULES)) == []


@pytest.mark.parametrize(
    "rule",
    [
        "api-path-removed",
        "api-removed",
        "request-parameter-added-required",
        "request-body-added-required",
        "request-property-added-required",
        "request-parameter-type-changed",
        "request-property-type-changed",
        "request-parameter-enum-value-removed",
        "request-property-max-length-tightened",
        "request-property-maximum-tightened",
        "request-property-minimum-tightened",
        "request-property-pattern-tightened",
        "response-required-property-removed",
        "response-property-became-optional",
        "response-property-became-nullable",
        "response-success-status-removed",
        "response-media-type-removed",
        "api-security-added",
        "api-security-changed",
    ],
)
def test_the_issue_list_is_breaking(rule: str) -> None:
    assert RULES[rule].level == BREAKING


@pytest.mark.parametrize(
    "rule",
    [
        "api-added",
        "api-path-added",
        "request-parameter-added-optional",
        "response-property-added",
        "request-property-enum-value-added",
        "request-parameter-enum-value-added",
        "documentation-changed",
        "request-path-parameter-renamed",
    ],
)
def test_the_issue_list_is_not_breaking(rule: str) -> None:
    assert RULES[rule].level == NON_BREAKING


# -- how the engine reads documents -------------------------------------------------------------


def test_identical_documents_have_no_changes() -> None:
    assert compare_documents(BASE, copy.deepcopy(BASE)) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [("info", {"title": "Items", "version": "2.0.0"}), ("tags", [{"name": "x"}])],
)
def test_document_metadata_is_documentation(key: str, value: Any) -> None:
    changes = compare_documents(BASE, edited(lambda d: d.update({key: value})))
    assert [(c.id, c.operation, c.pointer) for c in changes] == [
        ("documentation-changed", "", f"/{key}")
    ]


def test_servers_of_a_path_or_an_operation() -> None:
    servers = [{"url": "https://eu.example.com"}]
    changes = compare_documents(BASE, edited(lambda d: get_op(d).update(servers=servers)))
    assert [(c.id, c.operation) for c in changes] == [("servers-changed", f"GET {PATH}")]
    changes = compare_documents(BASE, edited(lambda d: d["paths"][PATH].update(servers=servers)))
    assert [(c.id, c.location) for c in changes] == [("servers-changed", f"path {PATH}")]


def test_paths_equal_but_for_parameter_names_are_each_compared() -> None:
    def twin(doc: Doc) -> None:
        doc["paths"]["/items/{other}"] = {
            "put": {
                "parameters": [{**ITEM_ID, "name": "other"}],
                "responses": {"204": {"description": "ok"}},
            }
        }

    old = edited(twin)
    new = copy.deepcopy(old)
    new["paths"]["/items/{other}"]["put"]["deprecated"] = True
    changes = compare_documents(old, new)
    assert [(c.id, c.operation) for c in changes] == [("api-deprecated", "PUT /items/{other}")]
    assert compare_documents(old, copy.deepcopy(old)) == []


def test_a_renamed_component_changes_no_operation() -> None:
    def rename(doc: Doc) -> None:
        doc["components"]["schemas"]["Thing"] = doc["components"]["schemas"].pop("Item")
        for operation in doc["paths"][PATH].values():
            operation["responses"]["200"]["content"] = _json("Thing")

    assert sorted(ids(BASE, edited(rename))) == ["component-added", "component-removed"]


def test_an_inlined_schema_is_no_change() -> None:
    def inline(doc: Doc) -> None:
        get_op(doc)["responses"]["200"]["content"]["application/json"]["schema"] = copy.deepcopy(
            item(doc)
        )

    assert ids(BASE, edited(inline)) == []


def test_nullable_spellings_are_equal() -> None:
    spellings = [
        {"type": ["string", "null"]},
        {"anyOf": [{"type": "string"}, {"type": "null"}]},
        {"oneOf": [{"type": "null"}, {"type": "string"}]},
        {"type": "string", "nullable": True},
    ]
    for old in spellings:
        for new in spellings:
            assert ids(placed("response-body", old), placed("response-body", new)) == []


def test_a_nullable_ref_is_compared_through_the_ref() -> None:
    def nullable_ref(doc: Doc) -> None:
        schema = {"anyOf": [{"$ref": "#/components/schemas/Item"}, {"type": "null"}]}
        get_op(doc)["responses"]["200"]["content"]["application/json"]["schema"] = schema
        item(doc)["properties"]["id"]["maxLength"] = 5

    changes = compare_documents(BASE, edited(nullable_ref))
    got = sorted((c.operation, c.id) for c in changes)
    assert got == [
        (f"GET {PATH}", "response-body-became-nullable"),
        (f"GET {PATH}", "response-property-max-length-tightened"),
        (f"POST {PATH}", "response-property-max-length-tightened"),
    ]


def test_allof_members_are_merged() -> None:
    def composed(doc: Doc) -> None:
        schemas = doc["components"]["schemas"]
        schemas["Named"] = {
            "type": "object",
            "required": ["name"],
            "properties": schemas["Item"]["properties"].copy(),
        }
        schemas["Item"] = {"allOf": [{"$ref": "#/components/schemas/Named"}]}

    composed_doc = edited(composed)
    assert ids(composed_doc, copy.deepcopy(composed_doc)) == []
    smaller = copy.deepcopy(composed_doc)
    smaller["components"]["schemas"]["Named"]["properties"].pop("name")
    smaller["components"]["schemas"]["Named"]["required"] = []
    assert ids(composed_doc, smaller) == ["response-required-property-removed"] * 2


def test_recursive_schemas_terminate_and_report_deep_changes() -> None:
    tree: Doc = {
        "type": "object",
        "properties": {
            "label": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
        },
    }
    old = placed("response-body", {"$ref": "#/components/schemas/Node"})
    old["components"] = {"schemas": {"Node": tree}}
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Node"]["properties"]["label"]["enum"] = ["a"]
    changes = compare_documents(old, new)
    assert [(c.id, c.location) for c in changes] == [
        ("response-property-became-enum", 'response 200 (application/json) property "label"')
    ]
    assert changes[0].pointer == "/components/schemas/Node/properties/label"


def test_read_only_request_properties_are_not_judged_as_input() -> None:
    def read_only_note(doc: Doc) -> None:
        item_input(doc)["properties"]["note"]["readOnly"] = True

    old = edited(read_only_note)
    stricter = copy.deepcopy(old)
    stricter["components"]["schemas"]["ItemInput"]["properties"]["note"]["maxLength"] = 3
    stricter["components"]["schemas"]["ItemInput"]["required"].append("note")
    assert ids(old, stricter) == []


def test_response_default_is_documentation() -> None:
    def with_default(doc: Doc) -> None:
        item(doc)["properties"]["note"]["default"] = "x"

    assert ids(BASE, edited(with_default)) == ["documentation-changed"] * 2


def test_a_renamed_security_scheme_is_no_change() -> None:
    def rename(doc: Doc) -> None:
        schemes = doc["components"]["securitySchemes"]
        schemes["token"] = schemes.pop("bearer")
        for operation in doc["paths"][PATH].values():
            operation["security"] = [{"token": []}]

    assert sorted(ids(BASE, edited(rename))) == ["component-added", "component-removed"]


def test_a_scheme_whose_definition_changes_breaks_its_operations() -> None:
    def basic(doc: Doc) -> None:
        doc["components"]["securitySchemes"]["bearer"]["scheme"] = "basic"

    changes = compare_documents(BASE, edited(basic))
    assert [c.id for c in changes] == ["api-security-changed"] * 2
    assert "http bearer no longer work" in changes[0].message


def test_global_security_applies_to_operations_without_their_own() -> None:
    def global_security(doc: Doc) -> None:
        for operation in doc["paths"][PATH].values():
            operation.pop("security")

    old = edited(global_security)
    new = copy.deepcopy(old)
    new["security"] = [{"bearer": []}]
    assert ids(old, new) == ["api-security-added"] * 2


def test_a_new_scope_breaks_old_tokens() -> None:
    def oauth(scopes: list[str]) -> Edit:
        def edit(doc: Doc) -> None:
            flows = {"clientCredentials": {"tokenUrl": "https://t", "scopes": {"r": "", "w": ""}}}
            doc["components"]["securitySchemes"]["oauth"] = {"type": "oauth2", "flows": flows}
            get_op(doc)["security"] = [{"oauth": scopes}]

        return edit

    assert ids(edited(oauth(["r"])), edited(oauth(["r", "w"]))) == ["api-security-changed"]
    assert ids(edited(oauth(["r", "w"])), edited(oauth(["r"]))) == ["api-security-relaxed"]


def test_a_shared_component_change_is_reported_per_operation_and_response() -> None:
    def enum_status(values: list[str]) -> Edit:
        def edit(doc: Doc) -> None:
            item(doc)["properties"]["status"] = {"type": "string", "enum": values}

        return edit

    changes = compare_documents(edited(enum_status(["a"])), edited(enum_status(["a", "b"])))
    assert [(c.operation, c.id) for c in changes] == [
        (f"GET {PATH}", "response-property-enum-value-added"),
        (f"POST {PATH}", "response-property-enum-value-added"),
    ]
    assert {c.pointer for c in changes} == {"/components/schemas/Item/properties/status"}


def test_removals_point_into_old_and_additions_into_new() -> None:
    old = edited(lambda d: d["paths"].update({"/old": {"get": {"responses": {}}}}))
    new = edited(lambda d: d["paths"].update({"/new": {"get": {"responses": {}}}}))
    pointers = {c.id: c.pointer for c in compare_documents(old, new)}
    assert pointers == {
        "api-path-removed": "/paths/~1old/get",
        "api-path-added": "/paths/~1new/get",
    }


def test_order_is_breaking_first_and_stable() -> None:
    def many(doc: Doc) -> None:
        doc["paths"]["/a"] = {"get": {"responses": {"200": {"description": "ok"}}}}
        get_op(doc)["summary"] = "changed"
        get_op(doc)["parameters"].append(query("q", required=True))
        post_op(doc)["responses"].pop("200")
        item(doc)["properties"]["size"] = {"type": "integer"}

    changes = compare_documents(BASE, edited(many))
    levels = [c.level for c in changes]
    assert levels == sorted(levels, key=lambda level: level != BREAKING)
    assert [c.id for c in changes][:2] == [
        "request-parameter-added-required",
        "response-success-status-removed",
    ]
    shuffled_old = json.loads(json.dumps(BASE, sort_keys=True))
    shuffled_new = json.loads(json.dumps(edited(many), sort_keys=True))
    assert compare_documents(shuffled_old, shuffled_new) == changes


def test_changes_are_not_repeated() -> None:
    changes = compare_documents(BASE, edited(lambda d: item(d)["properties"].pop("note")))
    assert len(changes) == len(set(changes)) == 2


def test_malformed_documents_do_not_crash() -> None:
    broken: Doc = {
        "openapi": "3.1.0",
        "paths": {
            "/x": {"get": {"parameters": [{"in": "query"}, 3], "responses": [], "security": 5}},
            "/y": "not a path item",
        },
        "components": {"schemas": {"A": {"$ref": "#/components/schemas/A"}}},
    }
    assert compare_documents(broken, copy.deepcopy(broken)) == []
    assert "api-path-removed" in ids(broken, {"openapi": "3.1.0"})


def _corpus_specs() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    files = sorted((CORPUS / "real").glob("*.json")) + sorted((CORPUS / "edge").rglob("*.*"))
    return [f for f in files if f.suffix in (".json", ".yaml", ".yml")]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not present")
@pytest.mark.parametrize("path", _corpus_specs(), ids=lambda p: p.name)
def test_corpus_spec_against_itself_and_without_its_first_path(path: Path) -> None:
    from generator.spec.errors import ContractError
    from generator.spec.loader import load_spec

    try:
        document = load_spec(path).document
    except ContractError:
        pytest.skip("the loader refuses this document")
    assert compare_documents(document, copy.deepcopy(document)) == []
    paths = document.get("paths")
    if not isinstance(paths, dict) or not paths:
        return
    first = sorted(paths)[0]
    smaller = copy.deepcopy(document)
    smaller["paths"].pop(first)
    changes = compare_documents(document, smaller)
    assert {c.id for c in changes} <= {"api-path-removed"}
    # a path could be a duplicate of another once its parameter names are blanked
    assert all(c.operation.split(" ", 1)[1] in paths for c in changes)


# -- output formats ----------------------------------------------------------------------------


def _result() -> DiffResult:
    def edit(doc: Doc) -> None:
        get_op(doc)["parameters"].append(query("q", required=True))
        item(doc)["properties"]["note"]["enum"] = ["a|b"]  # a pipe inside a table cell
        doc["paths"]["/new"] = {"get": {"responses": {"200": {"description": "ok"}}}}

    changes = compare_documents(BASE, edited(edit))
    return DiffResult("old.yaml", "new.yaml", tuple(changes))


def test_json_output_is_a_list_of_classified_changes() -> None:
    data = json.loads(render_json(_result()))
    assert data["old"] == "old.yaml" and data["new"] == "new.yaml"
    assert data["summary"] == {"breaking": 1, "warn": 0, "non-breaking": 3}
    assert all(
        set(c) == {"id", "level", "operation", "location", "pointer", "message"}
        for c in data["changes"]
    )
    first = data["changes"][0]
    assert first == {
        "id": "request-parameter-added-required",
        "level": "breaking",
        "operation": f"GET {PATH}",
        "location": 'query parameter "q"',
        "pointer": "/paths/~1items~1{item_id}/get/parameters/1",
        "message": "a new required parameter",
    }


def test_markdown_output_has_counts_and_a_table_breaking_first() -> None:
    text = render_markdown(_result())
    lines = text.splitlines()
    assert lines[0] == "### :x: API contract: 1 breaking change"
    assert "**1 breaking**, 3 non-breaking" in lines[2]
    rows = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 4
    assert rows[0].startswith("| **breaking** | `request-parameter-added-required` |")
    assert all(row.startswith("| non-breaking |") for row in rows[1:])
    assert all(row.count(" | ") == 4 for row in rows)  # the pipe in "a|b" is escaped
    assert '"a\\|b"' in text


def test_markdown_without_changes_says_so() -> None:
    text = render_markdown(DiffResult("a", "b", ()))
    assert text.startswith("### :white_check_mark: API contract: no breaking changes")
    assert "same API" in text


def test_markdown_is_cut_for_pull_request_comments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diff_render, "MARKDOWN_MAX_ROWS", 2)
    text = render_markdown(_result())
    assert text.count("| non-breaking |") + text.count("| **breaking** |") == 2
    assert "… and 2 more" in text


def test_text_output_has_one_block_per_change_and_a_summary() -> None:
    text = render_text(_result())
    lines = text.splitlines()
    assert lines[0] == "contract diff old.yaml → new.yaml"
    assert lines[1].startswith("BREAKING") and "[request-parameter-added-required]" in lines[1]
    assert lines[-1] == "summary: 1 breaking, 3 non-breaking"
    assert len(lines) == 2 + 3 * 4


def _warned() -> DiffResult:
    """One change of each level: a required parameter, a pattern replaced, a new path."""

    def edit(doc: Doc) -> None:
        get_op(doc)["parameters"].append(query("q", required=True))
        item_input(doc)["properties"]["note"]["pattern"] = "^b"
        doc["paths"]["/new"] = {"get": {"responses": {"200": {"description": "ok"}}}}

    old = edited(lambda d: item_input(d)["properties"]["note"].update(pattern="^a"))
    return DiffResult("old.yaml", "new.yaml", tuple(compare_documents(old, edited(edit))))


def test_every_output_shows_the_warn_level_between_the_others() -> None:
    result = _warned()
    assert [c.level for c in result.changes] == [BREAKING, WARN, NON_BREAKING]
    assert result.changes[1].id == "request-property-pattern-changed"
    text = render_text(result).splitlines()
    assert text[4].startswith("WARN ") and "[request-property-pattern-changed]" in text[4]
    assert text[-1] == "summary: 1 breaking, 1 warn, 1 non-breaking"
    data = json.loads(render_json(result))
    assert data["summary"] == {"breaking": 1, "warn": 1, "non-breaking": 1}
    assert data["changes"][1]["level"] == "warn"
    markdown = render_markdown(result)
    assert "**1 breaking**, 1 warn (the spec cannot tell), 1 non-breaking" in markdown
    assert "| *warn* | `request-property-pattern-changed` |" in markdown


@pytest.mark.parametrize(
    "rule",
    [
        "request-property-pattern-changed",
        "response-body-pattern-changed",
        "request-body-if-changed",
        "response-property-discriminator-changed",
    ],
)
def test_what_the_spec_cannot_tell_is_warn(rule: str) -> None:
    assert RULES[rule].level == WARN


def test_change_as_dict_round_trips() -> None:
    change = Change("api-added", NON_BREAKING, "GET /x", "operation", "/paths/~1x/get", "new")
    assert Change(**change.as_dict()) == change  # type: ignore[arg-type]
