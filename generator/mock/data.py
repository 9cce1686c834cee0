"""Values for a JSON Schema, made by a seeded `random.Random`: the same seed, the same value.

A small generator for the keywords response schemas use (types, enums, objects, arrays, string
formats and lengths, numeric bounds, `allOf`/`oneOf`/`anyOf`, local `$ref`s). `pattern` is left to
Hypothesis' `from_regex`, drawn from the same seed. What it makes is not trusted: the caller
validates every value against the schema (`SchemaValidator`) before it is served.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from generator.spec.openapi import discriminator_values, follow_refs

# Past this depth objects get only their required properties and arrays their minimum length.
SHALLOW_DEPTH = 4
MAX_DEPTH = 24
MAX_ITEMS = 3
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


class CannotGenerate(Exception):
    """The schema asks for something this generator does not make (or nothing is valid)."""


def discriminator_value(discriminator: Any, option: Any) -> tuple[str, str] | None:
    """(property, value) that selects `option`, a `$ref` member of a union with this
    `discriminator`: the first `mapping` entry that points at it, else its schema name."""
    if not isinstance(discriminator, dict) or not isinstance(option, dict):
        return None
    prop, ref = discriminator.get("propertyName"), option.get("$ref")
    if not isinstance(prop, str) or not isinstance(ref, str):
        return None
    value = next(iter(discriminator_values(discriminator, [ref])), None)
    return None if value is None else (prop, value)


class DataGenerator:
    """Values for the schemas of one document; `$ref`s are resolved in that document."""

    def __init__(self, document: Mapping[str, Any], *, openapi_30: bool) -> None:
        self.document = document
        self.openapi_30 = openapi_30

    def value(self, schema: Any, rng: random.Random, *, prefer_examples: bool = True) -> Any:
        return self._value(schema, rng, 0, prefer_examples)

    def _value(self, schema: Any, rng: random.Random, depth: int, examples: bool) -> Any:
        if depth > MAX_DEPTH:
            raise CannotGenerate("schema nests too deep")
        schema = self._resolve(schema)
        if schema is True or schema == {}:
            return rng.choice(WORDS)
        if not isinstance(schema, dict):
            raise CannotGenerate("schema is not an object")
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            options = [v for v in schema["enum"] if v is not None] or schema["enum"]
            return options[rng.randrange(len(options))]
        if examples:
            for candidate in _examples(schema):
                return candidate
        if "allOf" in schema:
            return self._value(self._merged(schema), rng, depth + 1, examples)
        for key in ("oneOf", "anyOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                base = {k: v for k, v in schema.items() if k not in (key, "discriminator")}
                chosen = options[rng.randrange(len(options))]
                option = self._resolve(chosen)
                if base and isinstance(option, dict):
                    option = self._merged({"allOf": [base, option]})
                value = self._value(option, rng, depth + 1, examples)
                tag = discriminator_value(schema.get("discriminator"), chosen)
                if tag is not None and isinstance(value, dict):
                    value[tag[0]] = tag[1]
                return value
        kind = self._type(schema, rng)
        if kind == "object":
            return self._object(schema, rng, depth, examples)
        if kind == "array":
            return self._array(schema, rng, depth, examples)
        if kind == "string":
            return self._string(schema, rng)
        if kind == "integer":
            return int(self._number(schema, rng, integer=True))
        if kind == "number":
            return self._number(schema, rng, integer=False)
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "null":
            return None
        raise CannotGenerate(f"unknown type {kind!r}")

    def _resolve(self, schema: Any) -> Any:
        end = follow_refs(self.document, schema, siblings_win=not self.openapi_30)
        if not end.complete:
            raise CannotGenerate("a $ref that cannot be followed")
        return end.value

    def _merged(self, schema: dict[str, Any]) -> dict[str, Any]:
        """`allOf` folded into one schema: properties and required lists joined, the rest set."""
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema.get("allOf") or []:
            part = self._resolve(part)
            if not isinstance(part, dict):
                continue
            if "allOf" in part:
                part = self._merged(part)
            for key, value in part.items():
                if key == "properties" and isinstance(value, dict):
                    merged["properties"] = {**merged.get("properties", {}), **value}
                elif key == "required" and isinstance(value, list):
                    merged["required"] = sorted({*merged.get("required", []), *value})
                else:
                    merged.setdefault(key, value)
        return merged

    def _type(self, schema: dict[str, Any], rng: random.Random) -> str:
        declared = schema.get("type")
        if isinstance(declared, list):
            options = [t for t in declared if t != "null"] or ["null"]
            return str(options[0])
        if isinstance(declared, str):
            return declared
        if "properties" in schema or "additionalProperties" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
        if any(k in schema for k in ("minLength", "maxLength", "pattern", "format")):
            return "string"
        if any(k in schema for k in ("minimum", "maximum", "multipleOf")):
            return "number"
        return "string"

    def _object(
        self, schema: dict[str, Any], rng: random.Random, depth: int, examples: bool
    ) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        result: dict[str, Any] = {}
        for name, prop in properties.items():
            resolved = self._resolve(prop)
            if isinstance(resolved, dict) and resolved.get("writeOnly") and name not in required:
                continue
            if name in required or depth < SHALLOW_DEPTH:
                result[name] = self._value(prop, rng, depth + 1, examples)
        for name in sorted(required - set(result)):
            extra = schema.get("additionalProperties")
            result[name] = self._value(
                extra if isinstance(extra, dict) else {}, rng, depth + 1, examples
            )
        extra = schema.get("additionalProperties")
        wanted = int(schema.get("minProperties") or 0)
        index = 0
        while len(result) < wanted:
            index += 1
            key = f"key{index}"
            if key not in result:
                result[key] = self._value(
                    extra if isinstance(extra, dict) else {}, rng, depth + 1, examples
                )
        return result

    def _array(
        self, schema: dict[str, Any], rng: random.Random, depth: int, examples: bool
    ) -> list[Any]:
        low = int(schema.get("minItems") or 0)
        high = schema.get("maxItems")
        high = int(high) if isinstance(high, int) else max(low, MAX_ITEMS)
        count = low if depth >= SHALLOW_DEPTH else min(high, max(low, rng.randint(1, MAX_ITEMS)))
        declared = schema.get("prefixItems")
        prefix: list[Any] = declared if isinstance(declared, list) else []
        items = schema.get("items", {})
        values: list[Any] = []
        attempts = 0
        while len(values) < count:
            attempts += 1
            if attempts > count * 20:
                raise CannotGenerate("cannot make enough unique items")
            index = len(values)
            item_schema = prefix[index] if index < len(prefix) else items
            item = self._value(item_schema, rng, depth + 1, examples and attempts == index + 1)
            if schema.get("uniqueItems") and item in values:
                continue
            values.append(item)
        return values

    def _string(self, schema: dict[str, Any], rng: random.Random) -> str:
        if isinstance(schema.get("pattern"), str):
            return _from_pattern(schema["pattern"], rng)
        low = int(schema.get("minLength") or 0)
        high = schema.get("maxLength")
        formatted = _formatted(str(schema.get("format", "")), rng)
        if formatted is not None and low <= len(formatted) <= (
            high if high is not None else 1 << 30
        ):
            return formatted
        text = f"{rng.choice(WORDS)}-{rng.randrange(1000)}"
        if high is not None:
            text = text[: int(high)]
        while len(text) < low:
            text += rng.choice(string.ascii_lowercase)
        return text

    def _number(self, schema: dict[str, Any], rng: random.Random, *, integer: bool) -> float:
        low, high = schema.get("minimum"), schema.get("maximum")
        exclusive_low, exclusive_high = (
            schema.get("exclusiveMinimum"),
            schema.get("exclusiveMaximum"),
        )
        step = 1 if integer else 0.5
        if isinstance(exclusive_low, bool):  # OpenAPI 3.0: a flag on `minimum`
            exclusive_low = low if exclusive_low else None
            low = None if exclusive_low is not None else low
        if isinstance(exclusive_high, bool):
            exclusive_high = high if exclusive_high else None
            high = None if exclusive_high is not None else high
        lower = low if isinstance(low, int | float) else None
        if isinstance(exclusive_low, int | float):
            lower = max(lower, exclusive_low + step) if lower is not None else exclusive_low + step
        upper = high if isinstance(high, int | float) else None
        if isinstance(exclusive_high, int | float):
            bound = exclusive_high - step
            upper = min(upper, bound) if upper is not None else bound
        start = lower if lower is not None else (upper - 100 if upper is not None else 0)
        stop = upper if upper is not None else start + 100
        if start > stop:
            raise CannotGenerate("empty numeric range")
        multiple = schema.get("multipleOf")
        if isinstance(multiple, int | float) and multiple > 0:
            first = -(-start // multiple) * multiple
            if first > stop:
                raise CannotGenerate("no multiple in range")
            steps = int((stop - first) // multiple)
            value = first + multiple * rng.randint(0, min(steps, 100))
            return int(value) if integer else value
        if integer:
            return rng.randint(int(-(-start // 1)), int(stop // 1))
        return round(rng.uniform(start, stop), 2)


def _examples(schema: Mapping[str, Any]) -> list[Any]:
    found: list[Any] = []
    if "example" in schema:
        found.append(schema["example"])
    if isinstance(schema.get("examples"), list):
        found.extend(schema["examples"])
    if "default" in schema:
        found.append(schema["default"])
    return found


def _formatted(name: str, rng: random.Random) -> str | None:
    moment = EPOCH + timedelta(seconds=rng.randrange(365 * 24 * 3600))
    values = {
        "date-time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "date": moment.strftime("%Y-%m-%d"),
        "time": moment.strftime("%H:%M:%SZ"),
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "email": f"{rng.choice(WORDS)}@example.com",
        "uri": f"https://example.com/{rng.choice(WORDS)}",
        "url": f"https://example.com/{rng.choice(WORDS)}",
        "hostname": f"{rng.choice(WORDS)}.example.com",
        "ipv4": f"192.0.2.{rng.randrange(1, 255)}",
        "ipv6": f"2001:db8::{rng.randrange(1, 0xFFFF):x}",
        "byte": "bW9jaw==",
        "duration": f"PT{rng.randrange(1, 60)}M",
    }
    return values.get(name)


def _from_pattern(pattern: str, rng: random.Random) -> str:
    """A string matching `pattern`, drawn by Hypothesis from the seed (no shrinking, no DB)."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis import strategies as st

    # Hypothesis tries the simplest strings first: taking the k-th one varies the value by seed.
    wanted = rng.randrange(1, 8)
    seen = 0

    def kth(_: str) -> bool:
        nonlocal seen
        seen += 1
        return seen >= wanted

    try:
        found: str = find(
            st.from_regex(pattern, fullmatch=False),
            kth,
            settings=settings(
                database=None,
                phases=[Phase.generate],
                max_examples=20,
                suppress_health_check=list(HealthCheck),
            ),
            random=random.Random(rng.getrandbits(64)),  # noqa: S311 - test data, no secret
        )
    except Exception as exc:  # an invalid or unsupported regex: the value cannot be made
        raise CannotGenerate(f"pattern {pattern!r}: {type(exc).__name__}") from None
    return found
