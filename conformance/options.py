"""The options of one conformance run, checked once: `Options.build` is the way in.

`contract conform` builds them from its arguments and the pytest plugin from its `--contract-*`
options; after that nothing is parsed or validated again. `--param LOCATION.NAME=VALUE` values
become `Pin`s, typed by the schema of the parameter the spec declares.
"""

from __future__ import annotations

import secrets
import shlex
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.spec.errors import Diagnostic, InvalidSpec, UsageError
from generator.spec.loader import LoadedSpec, load_spec
from generator.spec.openapi import iter_operations, resolved
from generator.spec.operation_ids import FLAG, rename_duplicates, with_hint
from generator.spec.validate import validate

from .bounded_http import DEFAULT_MAX_RESPONSE_BYTES, Limits
from .gates import read_baseline

LOCATIONS = ("path", "query", "header", "cookie")
# One stream read: seconds in total (`--stream-timeout`) and items (`--stream-max-events`).
DEFAULT_STREAM_TIMEOUT = 10.0
DEFAULT_STREAM_MAX_EVENTS = 1000


@dataclass(frozen=True, slots=True)
class Pin:
    """A known-good value for one parameter, sent instead of generated ones."""

    location: str
    name: str
    value: str | int | float

    @property
    def key(self) -> str:
        return f"{self.location}.{self.name}"

    def argument(self) -> str:
        return f"{self.key}={self.value}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    spec: LoadedSpec  # loaded and validated
    url: str  # the base URL, without a trailing slash
    token: str | None
    pins: tuple[Pin, ...]
    max_examples: int
    seed: int  # the one given, or one chosen at random
    workers: int
    request_timeout: float
    report_dir: Path | None = None
    embedded: bool = False  # the server is the reference `contract conform` started itself
    # Keys of the pins that came from `default_params`: the server's, so not in the repeat line.
    defaulted: frozenset[str] = frozenset()
    # Check a server whose secured operations we cannot pass (no token, or a refused one) anyway.
    allow_unauthenticated: bool = False
    # --- untrusted-server bounds (conform-bounds) -----------------------------------------------
    # Bytes of one response body, on the wire and decoded (`--max-response-bytes`).
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    # --- end of untrusted-server bounds ---------------------------------------------------------
    # --- CI gates and sharding (conform-bounds) -------------------------------------------------
    baseline: frozenset[str] | None = None  # the finding keys `--baseline FILE` holds
    baseline_path: Path | None = None
    write_baseline: Path | None = None  # `--write-baseline FILE`
    fail_under: float | None = None  # `--fail-under PCT`, on the declared statuses exercised
    shard: tuple[int, int] | None = None  # `--shard K/N`: (K, N), K counted from 1
    # --- end of CI gates and sharding -----------------------------------------------------------
    # --- stream limits (stream-conform) ---------------------------------------------------------
    stream_timeout: float = DEFAULT_STREAM_TIMEOUT
    stream_max_events: int = DEFAULT_STREAM_MAX_EVENTS
    # --- end of stream limits -------------------------------------------------------------------
    # What reading the spec warned of (a duplicate operationId renamed): printed and reported.
    warnings: tuple[Diagnostic, ...] = ()
    rename_duplicate_operation_ids: bool = False

    @property
    def limits(self) -> Limits:
        """What one request may cost: `max_response_bytes` of body, `request_timeout` in total."""
        return Limits(max_bytes=self.max_response_bytes, seconds=self.request_timeout)

    @classmethod
    def build(
        cls,
        *,
        spec: Path,
        url: str,
        token: str | None,
        max_examples: int,
        seed: int | None,
        request_timeout: float,
        workers: int = 1,
        params: Iterable[str] = (),
        default_params: Iterable[str] = (),
        report_dir: Path | None = None,
        embedded: bool = False,
        allow_unauthenticated: bool = False,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        baseline: Path | None = None,
        write_baseline: Path | None = None,
        fail_under: float | None = None,
        shard: str | None = None,
        stream_timeout: float = DEFAULT_STREAM_TIMEOUT,
        stream_max_events: int = DEFAULT_STREAM_MAX_EVENTS,
        rename_duplicate_operation_ids: bool = False,
    ) -> Options:
        """Raise UsageError for a bad value and ContractError for an unusable spec.

        `default_params` are pinned where the spec declares the parameter and `params` does not
        name it (the embedded reference's demo values).
        """
        if max_examples < 1:
            raise UsageError("--max-examples must be at least 1")
        if workers < 1:
            raise UsageError("--workers must be at least 1")
        if not request_timeout > 0:
            raise UsageError("--request-timeout must be a positive number of seconds")
        if max_response_bytes < 1:
            raise UsageError("--max-response-bytes must be at least 1")
        if not stream_timeout > 0:
            raise UsageError("--stream-timeout must be a positive number of seconds")
        if stream_max_events < 1:
            raise UsageError("--stream-max-events must be at least 1")
        if seed is not None and not 0 <= seed < 2**63:
            raise UsageError("--seed must be a non-negative integer below 2**63")
        if report_dir is not None:
            ensure_writable(report_dir)
        if fail_under is not None and not 0 <= fail_under <= 100:
            raise UsageError("--fail-under must be a percentage from 0 to 100")
        known = read_baseline(baseline) if baseline is not None else None
        chosen_seed = seed if seed is not None else secrets.randbits(32)
        loaded = load_spec(spec)
        warnings: tuple[Diagnostic, ...] = ()
        if rename_duplicate_operation_ids:
            loaded, warnings = rename_duplicates(loaded)
        try:
            validate(loaded)
        except InvalidSpec as exc:
            raise InvalidSpec(exc.message, with_hint(exc.diagnostics, loaded.document)) from None
        pins = parse_params(params, loaded.document)
        defaults = default_pins(pins, default_params, loaded.document)
        pins += defaults
        return cls(
            spec=loaded,
            url=url.rstrip("/") or url,
            token=token,
            pins=tuple(pins),
            max_examples=max_examples,
            seed=chosen_seed,
            workers=workers,
            request_timeout=float(request_timeout),
            report_dir=report_dir,
            embedded=embedded,
            defaulted=frozenset(pin.key for pin in defaults),
            allow_unauthenticated=allow_unauthenticated,
            max_response_bytes=max_response_bytes,
            baseline=known,
            baseline_path=baseline,
            write_baseline=write_baseline,
            fail_under=fail_under,
            shard=parse_shard(shard) if shard is not None else None,
            stream_timeout=float(stream_timeout),
            stream_max_events=stream_max_events,
            warnings=warnings,
            rename_duplicate_operation_ids=rename_duplicate_operation_ids,
        )

    def command(self) -> str:
        """The `contract conform` line that repeats this run; a token is left to the environment."""
        parts = ["contract", "conform", str(self.spec.path)]
        if not self.embedded:
            parts += ["--url", self.url]
        for pin in self.pins:
            if pin.key not in self.defaulted:
                parts += ["--param", pin.argument()]
        parts += ["--max-examples", str(self.max_examples), "--seed", str(self.seed)]
        if self.workers != 1:
            parts += ["--workers", str(self.workers)]
        parts += ["--request-timeout", f"{self.request_timeout:g}"]
        if self.allow_unauthenticated:
            parts.append("--allow-unauthenticated")
        if self.max_response_bytes != DEFAULT_MAX_RESPONSE_BYTES:
            parts += ["--max-response-bytes", str(self.max_response_bytes)]
        if self.baseline_path is not None:
            parts += ["--baseline", str(self.baseline_path)]
        if self.fail_under is not None:
            parts += ["--fail-under", f"{self.fail_under:g}"]
        if self.shard is not None:
            parts += ["--shard", f"{self.shard[0]}/{self.shard[1]}"]
        if self.stream_timeout != DEFAULT_STREAM_TIMEOUT:
            parts += ["--stream-timeout", f"{self.stream_timeout:g}"]
        if self.stream_max_events != DEFAULT_STREAM_MAX_EVENTS:
            parts += ["--stream-max-events", str(self.stream_max_events)]
        if self.rename_duplicate_operation_ids:
            parts.append(FLAG)
        line = " ".join(shlex.quote(p) for p in parts)
        if self.token and not self.embedded:
            line = f"CONTRACT_TOKEN=... {line}"
        return line


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` with 1 <= K <= N."""
    k, sep, n = text.partition("/")
    if not sep or not k.isdigit() or not n.isdigit() or not 1 <= int(k) <= int(n):
        raise UsageError(f"--shard {text!r}: expected K/N with 1 <= K <= N, e.g. 2/4")
    return int(k), int(n)


def ensure_writable(folder: Path) -> None:
    """UsageError now, not after the whole run, when the reports could not be written there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".contract-write-check-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"--report {folder}: cannot write reports there ({reason})") from None


def parse_params(params: Iterable[str], document: Mapping[str, Any]) -> list[Pin]:
    """`LOCATION.NAME=VALUE` for a parameter some operation declares; typed by its schema."""
    pins: dict[str, Pin] = {}
    declared = declared_parameters(document)
    for raw in params:
        target, sep, value = raw.partition("=")
        location, dot, name = target.partition(".")
        if not sep or not dot or not name:
            raise UsageError(f"--param {raw!r}: expected LOCATION.NAME=VALUE, e.g. path.id=42")
        if location not in LOCATIONS:
            raise UsageError(f"--param {raw!r}: location must be one of {', '.join(LOCATIONS)}")
        schema = declared.get((location, name))
        if schema is None:
            raise UsageError(
                f"--param {raw!r}: no operation declares a {location} parameter {name!r}"
            )
        pins[f"{location}.{name}"] = Pin(location, name, typed_value(value, schema))
    return list(pins.values())


def default_pins(
    pins: Sequence[Pin], defaults: Iterable[str], document: Mapping[str, Any]
) -> list[Pin]:
    """`LOCATION.NAME=VALUE` defaults for parameters the spec declares and no pin names."""
    chosen = {p.key for p in pins}
    declared = declared_parameters(document)
    extra: list[Pin] = []
    for raw in defaults:
        target, _, value = raw.partition("=")
        location, _, name = target.partition(".")
        schema = declared.get((location, name))
        if target not in chosen and schema is not None:
            extra.append(Pin(location, name, typed_value(value, schema)))
    return extra


def declared_parameters(document: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """The schema of every parameter some operation declares, by (location, name)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for ref in iter_operations(document):
        for group in (ref.item.get("parameters"), ref.operation.get("parameters")):
            for raw in group if isinstance(group, list) else []:
                parameter = resolved(document, raw, {})
                if isinstance(parameter, dict) and "name" in parameter and "in" in parameter:
                    schema = resolved(document, parameter.get("schema", {}), {})
                    found.setdefault(
                        (str(parameter["in"]), str(parameter["name"])),
                        schema if isinstance(schema, dict) else {},
                    )
    return found


def typed_value(value: str, schema: Mapping[str, Any]) -> str | int | float:
    """`value` as an int if the schema's type includes integer, else as a float if it includes
    number; unchanged when that conversion fails or neither is allowed."""
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    try:
        if "integer" in kinds:
            return int(value)
        if "number" in kinds:
            return float(value)
    except ValueError:
        pass
    return value
