"""The classification rules of `contract diff`: one stable id per kind of change, one fixed level.

Three levels, as oasdiff has: breaking (ERR), warn (WARN: whether it breaks a client cannot be
told from the spec, e.g. one regular expression replaced by another) and non-breaking (INFO).
A change is breaking when a client that worked against OLD can fail against NEW (or a server built
for NEW can reject what such a client sends). The same schema change can be harmless in a request
and breaking in a response, so schema rules exist once per *subject*:

  request-parameter, request-body, request-property, request-item   (data the client sends)
  response-body, response-property, response-header, response-item  (data the client reads)

`-body`/`-parameter`/`-header`/`-item` name the root schema (`-item`: a media type's
`itemSchema`, OpenAPI 3.2's schema of each item of a stream such as Server-Sent Events or JSON
Lines); `-property` anything nested in it (object properties, array items, additional
properties). Anything the rules cannot judge is reported as `unclassified-change` and counted as
breaking, so that a person looks at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Level = Literal["breaking", "warn", "non-breaking"]
BREAKING: Final = "breaking"
WARN: Final = "warn"
NON_BREAKING: Final = "non-breaking"
LEVELS: Final = (BREAKING, WARN, NON_BREAKING)  # most severe first
# Which level `--fail-on` makes exit 1: anything at it or above.
FAIL_ON: Final = {BREAKING: (BREAKING,), WARN: (BREAKING, WARN)}

Direction = Literal["request", "response"]
REQUEST_SUBJECTS: Final = ("request-parameter", "request-body", "request-property", "request-item")
RESPONSE_SUBJECTS: Final = (
    "response-body",
    "response-property",
    "response-header",
    "response-item",
)

# Schema keywords that bound a value, by the name their rule ids use. Upper bounds tighten when
# they decrease, lower bounds when they increase.
UPPER_BOUNDS: Final = {
    "maxLength": "max-length",
    "maximum": "maximum",
    "exclusiveMaximum": "exclusive-maximum",
    "maxItems": "max-items",
    "maxProperties": "max-properties",
    "maxContains": "max-contains",
}
LOWER_BOUNDS: Final = {
    "minLength": "min-length",
    "minimum": "minimum",
    "exclusiveMinimum": "exclusive-minimum",
    "minItems": "min-items",
    "minProperties": "min-properties",
    "minContains": "min-contains",
}
# Keywords that restrict values without an order: a change that is neither stricter nor looser
# is `<name>-changed`.
OTHER_CONSTRAINTS: Final = {
    "pattern": "pattern",
    "format": "format",
    "multipleOf": "multiple-of",
    "uniqueItems": "unique-items",
}
CHANGEABLE: Final = ("pattern", "format", "multiple-of")
# Of those, a change whose effect the spec cannot tell: whether the new regular expression
# matches every value the old one did is not decidable from the two documents.
UNDECIDABLE: Final = ("pattern",)
# JSON Schema 2020-12 keywords that hold a schema (or schemas, by name or position) every value
# must also satisfy: present, they restrict; absent, they do not. Both present, the schemas inside
# are compared like any other. By the name their rule ids use.
SUBSCHEMA_KEYWORDS: Final = {
    "contains": "contains",
    "then": "then",
    "else": "else",
    "propertyNames": "property-names",
    "unevaluatedItems": "unevaluated-items",
    "unevaluatedProperties": "unevaluated-properties",
    "contentSchema": "content-schema",
}
# The same, one schema per key: per property name, per pattern, per position.
KEYED_SUBSCHEMA_KEYWORDS: Final = {
    "dependentSchemas": "dependent-schema",
    "patternProperties": "pattern-property",
    "prefixItems": "prefix-item",
}
# Keywords whose change cannot be ordered: added restricts, removed relaxes, any other change is
# `-changed` (a new condition, another encoding of the string, an inverted schema).
OPAQUE_KEYWORDS: Final = {
    "if": "if",
    "not": "not",
    "contentEncoding": "content-encoding",
    "contentMediaType": "content-media-type",
}


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    level: Level
    summary: str


@dataclass(frozen=True, slots=True)
class Change:
    """One classified change. `pointer` is a JSON pointer into NEW, into OLD for removals."""

    id: str
    level: Level
    operation: str  # "POST /runs/{run_id}", or "" for the document as a whole
    location: str  # where inside the operation, for people: 'query parameter "limit"'
    pointer: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "level": self.level,
            "operation": self.operation,
            "location": self.location,
            "pointer": self.pointer,
            "message": self.message,
        }


# (aspect, level in requests, level in responses, summary); None: no such rule that way.
SchemaAspect = tuple[str, Level | None, Level | None, str]


def _schema_aspects() -> tuple[SchemaAspect, ...]:
    b: Level = BREAKING
    w: Level = WARN
    n: Level = NON_BREAKING
    aspects: list[SchemaAspect] = [
        ("type-changed", b, b, "the type changed"),
        ("type-widened", n, None, "the type accepts more (a type added, integer → number)"),
        ("type-narrowed", None, n, "the type holds less (a type removed, number → integer)"),
        ("became-nullable", n, b, "null became allowed"),
        ("became-not-nullable", b, n, "null is no longer allowed"),
        ("enum-value-added", n, b, "an enum value was added"),
        ("enum-value-removed", b, n, "an enum value was removed"),
        ("became-enum", b, n, "the value became restricted to an enum"),
        ("enum-removed", n, b, "the value is no longer restricted to an enum"),
        ("default-changed", b, None, "the default changed; clients that omit it see the new one"),
        ("default-removed", b, None, "the default was removed"),
        ("default-added", n, None, "a default was added"),
        ("deprecated", n, n, "became deprecated"),
        ("reactivated", n, n, "is no longer deprecated"),
        ("union-branch-added", n, b, "a new anyOf/oneOf alternative"),
        ("union-branch-removed", b, n, "an anyOf/oneOf alternative was removed"),
        ("additional-properties-tightened", b, n, "additional properties became restricted"),
        ("additional-properties-relaxed", n, n, "additional properties became allowed"),
    ]
    names = [*UPPER_BOUNDS.values(), *LOWER_BOUNDS.values(), *OTHER_CONSTRAINTS.values()]
    for name in names:
        aspects.append((f"{name}-tightened", b, n, f"{name} became stricter"))
        aspects.append((f"{name}-relaxed", n, b, f"{name} became looser"))
    for name in CHANGEABLE:
        level = w if name in UNDECIDABLE else b
        summary = f"{name} changed, neither stricter nor looser"
        aspects.append((f"{name}-changed", level, level, summary))
    subschemas = [*SUBSCHEMA_KEYWORDS.values(), *KEYED_SUBSCHEMA_KEYWORDS.values()]
    for name in [*subschemas, *OPAQUE_KEYWORDS.values()]:
        aspects.append((f"{name}-added", b, n, f"{name} added: values must also satisfy it"))
        aspects.append((f"{name}-removed", n, b, f"{name} removed: values need not satisfy it"))
    for keyword, name in OPAQUE_KEYWORDS.items():
        if keyword == "if":  # another condition: which values meet it, the spec cannot tell
            aspects.append((f"{name}-changed", w, w, f"{name} changed; old values may not fit"))
        else:
            aspects.append((f"{name}-changed", b, b, f"{name} changed; old values do not fit"))
    aspects += [
        ("dependent-required-added", b, n, "a property now requires others beside it"),
        ("dependent-required-removed", n, b, "a property no longer requires others beside it"),
        ("discriminator-added", n, n, "a discriminator was added (an annotation)"),
        ("discriminator-removed", n, n, "a discriminator was removed (an annotation)"),
        ("discriminator-changed", w, w, "the discriminator's property or mapping changed"),
        ("wrapped-in-one-of", b, None, "wrapped into a oneOf whose alternatives overlap"),
    ]
    return tuple(aspects)


SCHEMA_ASPECTS: Final = _schema_aspects()


def _build() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}

    def add(rule_id: str, level: Level, summary: str) -> None:
        assert rule_id not in rules, rule_id
        rules[rule_id] = Rule(rule_id, level, summary)

    b: Level = BREAKING
    n: Level = NON_BREAKING
    # The document and its operations.
    add("api-path-removed", b, "a path was removed with its operations")
    add("api-removed", b, "an operation was removed from a path that remains")
    add("api-path-added", n, "a new path")
    add("api-added", n, "a new operation on an existing path")
    add("api-operation-id-changed", n, "operationId changed (generated method names follow)")
    add("api-deprecated", n, "an operation became deprecated")
    add("api-reactivated", n, "an operation is no longer deprecated")
    add("api-security-added", b, "an operation open to anonymous clients now needs credentials")
    add("api-security-changed", b, "credentials accepted before are no longer accepted")
    add("api-security-relaxed", n, "more ways to authenticate; every old one still works")
    add("servers-changed", n, "the servers list changed")
    add("openapi-version-changed", n, "the OpenAPI version of the document changed")
    add("component-added", n, "a component was added")
    add("component-removed", n, "a component was removed (generated names may go with it)")
    add("documentation-changed", n, "summary, description, title, examples or tags changed")
    add("extension-changed", n, "an x- extension changed")
    add("unclassified-change", b, "a change the rules cannot judge; review it by hand")
    add("webhook-added", n, "a new webhook operation")
    add("webhook-removed", b, "a webhook operation was removed; subscribers no longer get it")
    # Parameters.
    add("request-parameter-added-required", b, "a new required parameter")
    add("request-parameter-added-optional", n, "a new optional parameter")
    add("request-parameter-removed", b, "a parameter was removed; what clients send is ignored")
    add("request-parameter-became-required", b, "an optional parameter became required")
    add("request-parameter-became-optional", n, "a required parameter became optional")
    add("request-parameter-location-changed", b, "a parameter moved (e.g. query → header)")
    add("request-path-parameter-renamed", n, "a path parameter was renamed (URLs are unchanged)")
    add("request-parameter-serialization-changed", b, "style, explode or allowReserved changed")
    add(
        "request-parameter-type-generalized",
        n,
        "a form-style query value became an array of strings (one value is a one-item array)",
    )
    # Request bodies.
    add("request-body-added-required", b, "a new required request body")
    add("request-body-added-optional", n, "a new optional request body")
    add("request-body-removed", b, "the request body was removed")
    add("request-body-became-required", b, "the request body became required")
    add("request-body-became-optional", n, "the request body became optional")
    add("request-body-media-type-added", n, "the request body accepts a new media type")
    add("request-body-media-type-removed", b, "the request body no longer accepts a media type")
    # Object properties.
    add("request-property-added-required", b, "a new required request property")
    add("request-property-added-optional", n, "a new optional request property")
    add("request-property-removed", b, "a request property was removed; clients still send it")
    add("request-property-became-required", b, "a request property became required")
    add("request-property-became-optional", n, "a request property became optional")
    add("request-property-became-read-only", b, "a request property became readOnly")
    add("request-property-became-not-read-only", n, "a request property is no longer readOnly")
    add("response-property-added", n, "a new response property")
    add("response-required-property-removed", b, "a required response property was removed")
    add("response-optional-property-removed", n, "an optional response property was removed")
    add("response-property-became-optional", b, "a required response property became optional")
    add("response-property-became-required", n, "an optional response property became required")
    add("response-property-became-write-only", b, "a response property became writeOnly")
    add("response-property-became-not-write-only", n, "a property is no longer writeOnly")
    # Responses.
    add("response-success-status-removed", b, "a success (2xx) status was removed")
    add("response-non-success-status-removed", n, "a non-success status was removed")
    add("response-success-status-added", n, "a new success (2xx) status")
    add("response-non-success-status-added", n, "a new non-success status")
    add("response-media-type-removed", b, "a response media type was removed")
    add("response-media-type-added", n, "a new response media type")
    add("response-header-added", n, "a new response header")
    add("response-required-header-removed", b, "a required response header was removed")
    add("response-optional-header-removed", n, "an optional response header was removed")
    add("response-header-became-optional", b, "a required response header became optional")
    add("response-header-became-required", n, "an optional response header became required")

    # Schema rules, once per subject, with the level the direction gives them.
    for aspect, request_level, response_level, summary in SCHEMA_ASPECTS:
        for subjects, level in (
            (REQUEST_SUBJECTS, request_level),
            (RESPONSE_SUBJECTS, response_level),
        ):
            if level is None:
                continue
            for subject in subjects:
                add(f"{subject}-{aspect}", level, summary)
    return rules


RULES: Final[dict[str, Rule]] = _build()


def subject_rule(subject: str, aspect: str) -> str | None:
    """The id of a schema rule for a subject, or None when the direction has no such rule."""
    rule_id = f"{subject}-{aspect}"
    return rule_id if rule_id in RULES else None
