"""`run_conformance`: Schemathesis plus our checks and probes against one base URL, then report.

One run, in this order:

1. Schemathesis' engine with our registered checks only: examples, coverage, fuzzing (positive and
   negative), and the stateful phase when the spec declares links, with the `--param` values
   pinned, so that the 2xx paths are reached (and links can be followed from a real resource).
2. When values are pinned, the operations that declare a pinned parameter once more with free
   values, which reach the 404 and other error paths. (A dictionary bound with probability 1/2
   would be one pass, but Hypothesis' randoms favour small numbers: it picks the pinned value
   almost every time.)
3. Our probes, replaying the best request seen per operation: no credentials, the token under
   another scheme, a wrong token; and every undeclared method on every declared path.

`continue-on-failure` is on in both passes: a first failure does not end an operation's testing.
No cache, no example database: the seed alone decides what is sent.

A request that exceeds the timeout is a finding; a server that cannot be reached is exit 2.
"""

from __future__ import annotations

import copy
import secrets
import shlex
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.spec.errors import EXIT_UNUSABLE, ContractError, UsageError
from generator.spec.loader import LoadedSpec, load_spec
from generator.spec.openapi import iter_operations, resolved
from generator.spec.validate import validate

from .collector import Collector
from .credentials import credential_headers, security_of
from .failures import RequestTimedOut
from .preflight import Unusable, preflight
from .progress import Progress
from .results import Redactor, RunResult

if TYPE_CHECKING:
    from schemathesis import BaseSchema

LOCATIONS = ("path", "query", "header", "cookie")


@dataclass(frozen=True, slots=True)
class Options:
    max_examples: int
    seed: int
    workers: int
    request_timeout: float


@dataclass(frozen=True, slots=True)
class Pin:
    location: str
    name: str
    value: str | int | float

    @property
    def key(self) -> str:
        return f"{self.location}.{self.name}"

    def argument(self) -> str:
        return f"{self.key}={self.value}"


def run_conformance(
    spec: Path,
    url: str,
    token: str | None,
    params: list[str],
    max_examples: int,
    seed: int | None,
    workers: int,
    request_timeout: float,
    report_dir: Path | None,
    *,
    default_params: Sequence[str] = (),
    embedded: bool = False,
) -> int:
    """Exit 0 conformant, 1 violations found, 2 usage, schema or connection error."""
    from .report import render_summary, write_reports

    progress = Progress()
    try:
        result = check_server(
            spec,
            url,
            token,
            params,
            max_examples,
            seed,
            workers,
            request_timeout,
            progress,
            default_params=default_params,
            embedded=embedded,
        )
    except ContractError as exc:
        progress.close()
        for line in exc.lines():
            print(line, file=sys.stderr)
        return EXIT_UNUSABLE
    except Unusable as exc:
        progress.close()
        return _fail(str(exc))
    finally:
        progress.close()
    print(render_summary(result))
    if report_dir is not None:
        try:
            written = write_reports(result, report_dir)
        except OSError as exc:
            return _fail(f"cannot write reports to {report_dir}: {exc.strerror or exc}")
        print(f"reports: {', '.join(str(p) for p in written)}")
    return result.exit_code


def check_server(
    spec: Path,
    url: str,
    token: str | None,
    params: Sequence[str],
    max_examples: int,
    seed: int | None,
    workers: int,
    request_timeout: float,
    progress: Progress | None = None,
    *,
    default_params: Sequence[str] = (),
    embedded: bool = False,
) -> RunResult:
    """The whole suite against `url`, as data.

    `default_params` are pinned where the spec declares the parameter and `params` does not name
    it (the embedded reference's demo values). Raises ContractError for unusable input and
    Unusable when there is no server to check.
    """
    progress = progress or Progress(enabled=False)
    options = make_options(max_examples, seed, workers, request_timeout)
    loaded = load_spec(spec)
    validate(loaded)
    pins = parse_params(params, loaded.document)
    pins += default_pins(pins, default_params, loaded.document)
    url = url.rstrip("/") or url
    preflight(url)
    return conform(
        loaded,
        url=url,
        token=token,
        pins=pins,
        options=options,
        progress=progress,
        embedded=embedded,
    )


def _fail(message: str) -> int:
    print(f"contract conform: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


def make_options(
    max_examples: int, seed: int | None, workers: int, request_timeout: float
) -> Options:
    if max_examples < 1:
        raise UsageError("--max-examples must be at least 1")
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    if not request_timeout > 0:
        raise UsageError("--request-timeout must be a positive number of seconds")
    if seed is not None and not 0 <= seed < 2**63:
        raise UsageError("--seed must be a non-negative integer below 2**63")
    chosen = seed if seed is not None else secrets.randbits(32)
    return Options(max_examples, chosen, workers, float(request_timeout))


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


def schemathesis_config(
    url: str,
    headers: Mapping[str, str],
    pins: Sequence[Pin],
    options: Options,
    *,
    stateful: bool = True,
) -> dict[str, Any]:
    from .checks import CHECK_NAMES

    return {
        "seed": options.seed,
        "base-url": url,
        "headers": dict(headers),
        "workers": options.workers,
        "request-timeout": options.request_timeout,
        "continue-on-failure": True,
        "cache": {"enabled": False},
        "warnings": False,
        "generation": {
            "mode": "all",
            "max-examples": options.max_examples,
            "database": "none",
            "no-shrink": True,
        },
        # Only our checks: each built-in one we rely on is called from inside them.
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECK_NAMES}},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            # Only the links the contract declares; no inferred ones.
            "stateful": {"enabled": stateful, "inference": {"algorithms": []}},
        },
        "parameters": {p.key: p.value for p in pins},
    }


def conform(
    loaded: LoadedSpec,
    *,
    url: str,
    token: str | None,
    pins: Sequence[Pin],
    options: Options,
    progress: Progress,
    embedded: bool = False,
) -> RunResult:
    import schemathesis
    from schemathesis.config import ConfigError, SchemathesisConfig
    from schemathesis.core.errors import InvalidSchema, LoaderError
    from schemathesis.engine import from_schema

    from . import probes
    from .checks import CHECK_NAMES

    document = copy.deepcopy(loaded.document)
    headers = credential_headers(document, token)
    passes = [(pins, True)]
    if pins:
        passes.append(([], False))
    schemas: list[BaseSchema] = []
    try:
        for pass_pins, stateful in passes:
            settings = schemathesis_config(url, headers, pass_pins, options, stateful=stateful)
            config = SchemathesisConfig.from_dict(settings)
            schemas.append(schemathesis.openapi.from_dict(copy.deepcopy(document), config=config))
    except (ConfigError, LoaderError, InvalidSchema) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{loaded.path}: Schemathesis cannot use this document: {first}") from None
    if pins:
        # The free pass: only the operations whose values the pins changed.
        affected = pinned_operations(schemas[0], pins)
        schemas[1:] = [schemas[1].include(name=affected)] if affected else []
    result = RunResult(
        spec=str(loaded.path),
        base_url=url,
        seed=options.seed,
        max_examples=options.max_examples,
        workers=options.workers,
        request_timeout=options.request_timeout,
        checks=(*CHECK_NAMES, RequestTimedOut.check),
        embedded=embedded,
        command=reproduce_command(loaded.path, url, token, pins, options, embedded),
    )
    collector = Collector(result, Redactor(token), document, headers, progress)
    collector.prepare(schemas[0])
    started = time.monotonic()
    for number, schema in enumerate(schemas):
        collector.free_values = number > 0
        for event in from_schema(schema).execute():
            collector.handle(event)
        if collector.server_gone:
            break
    if collector.server_gone:
        result.notes.append("probes skipped: the server stopped answering")
    else:
        planned = probes.plan(document, collector.candidates, token)
        progress.start_phase("probes", len(planned))
        for outcome in probes.run(planned, options.request_timeout):
            collector.probe(outcome)
    if token is None and any(
        security_of(document, ref.operation).required for ref in iter_operations(document)
    ):
        result.notes.append(
            "no --token: secured operations were checked only for their 401 answers"
        )
    missing = sorted(set(result.coverage) - set(collector.candidates))
    for label in missing:
        result.notes.append(f"{label}: no accepted request to base auth and method probes on")
    result.duration = time.monotonic() - started
    return result


def pinned_operations(schema: Any, pins: Sequence[Pin]) -> list[str]:
    """Labels of the operations that declare at least one pinned parameter."""
    wanted = {(p.location, p.name) for p in pins}
    labels = []
    for item in schema.get_all_operations():
        try:
            operation = item.ok()
        except Exception:  # noqa: S112 - reported by Collector.prepare
            continue
        names = {(str(p.location.value), p.name) for p in operation.iter_parameters()}
        if names & wanted:
            labels.append(operation.label)
    return labels


def reproduce_command(
    spec: Path,
    url: str,
    token: str | None,
    pins: Sequence[Pin],
    options: Options,
    embedded: bool,
) -> str:
    parts = ["contract", "conform", str(spec)]
    if not embedded:
        parts += ["--url", url]
    for pin in pins:
        parts += ["--param", pin.argument()]
    parts += ["--max-examples", str(options.max_examples), "--seed", str(options.seed)]
    if options.workers != 1:
        parts += ["--workers", str(options.workers)]
    parts += ["--request-timeout", f"{options.request_timeout:g}"]
    line = " ".join(shlex.quote(p) for p in parts)
    if token and not embedded:
        line = f"CONTRACT_TOKEN=... {line}"
    return line
