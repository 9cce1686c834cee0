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

`check_server` is the run itself and returns its result as data (the pytest plugin reads it);
`run_conformance` adds what `contract conform` shows: progress, summary, reports, exit code.
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Sequence
from typing import Any

from generator.spec.config import TOKEN_VARIABLE
from generator.spec.errors import EXIT_UNUSABLE, UsageError
from generator.spec.openapi import iter_operations
from generator.terminal.console import wants_colour, width_of
from generator.terminal.progress import Progress
from generator.terminal.text import say

from . import probes, stream_checks
from .checks import CHECK_NAMES
from .collector import Collector
from .credentials import credential_headers, security_of
from .failures import RequestTimedOut, ResponseRefused
from .gates import apply_gates, render_baseline
from .options import Options, Pin
from .preflight import Unusable, check_credentials, preflight
from .report import write_reports
from .results import Redactor, RunResult
from .schemathesis_api import (
    BaseSchema,
    SchemaRejected,
    load_schema,
    parameter_keys,
    run_engine,
    schema_operations,
    schemathesis_config,
)
from .stream_reader import StreamLimits
from .streams_spec import StreamResponse, stream_responses
from .summary import render_summary
from .unavailable import set_aside_unavailable


def run_conformance(options: Options) -> int:
    """`contract conform`: exit 0 conformant, 1 violations found, 2 no server or no reports.

    Shows progress, prints the summary and writes the reports. ContractError (Schemathesis cannot
    use the document) is left to the caller, as from `Options.build`.
    """
    for warning in options.warnings:
        say(str(warning), style="yellow")
    progress = Progress()
    try:
        result = check_server(options, progress=progress)
    except Unusable as exc:
        progress.close()
        return _fail(str(exc))
    finally:
        progress.close()
    apply_gates(result, baseline=options.baseline, fail_under=options.fail_under)
    print(render_summary(result, width=width_of(sys.stdout), colour=wants_colour(sys.stdout)))
    if result.blocked:
        say(f"contract conform: {result.blocked}", style="red")
    if options.report_dir is not None:
        try:
            written = write_reports(result, options.report_dir)
        except OSError as exc:
            return _fail(f"cannot write reports to {options.report_dir}: {exc.strerror or exc}")
        print(f"reports in {options.report_dir}: {', '.join(p.name for p in written)}")
    if options.write_baseline is not None and not result.blocked:
        try:
            options.write_baseline.write_text(render_baseline(result), encoding="utf-8")
        except OSError as exc:
            return _fail(f"cannot write {options.write_baseline}: {exc.strerror or exc}")
        print(f"baseline: {options.write_baseline} ({len(result.findings)} findings)")
    return result.exit_code


def check_server(options: Options, *, progress: Progress | None = None) -> RunResult:
    """The whole suite against `options.url`, as data.

    Raises Unusable when there is no server to check, ContractError when Schemathesis cannot use
    the document.
    """
    ensure_usable(options)
    return conform(options, progress or Progress(enabled=False))


def ensure_usable(options: Options) -> None:
    """Raise Unusable, before any test, for no server at the URL or a missing or refused token."""
    preflight(options.url, options.limits)
    if not options.allow_unauthenticated:
        document = options.spec.document
        headers = credential_headers(document, options.token)
        check_credentials(document, options.url, options.token, headers, options.limits)


def _fail(message: str) -> int:
    say(f"contract conform: {message}", style="red")
    return EXIT_UNUSABLE


def conform(options: Options, progress: Progress) -> RunResult:
    """Both engine passes, then the probes, against a server that answered the preflight."""
    token, pins = options.token, options.pins
    document = copy.deepcopy(options.spec.document)
    headers = credential_headers(document, token)
    passes = [False, True] if pins else [False]
    schemas: list[BaseSchema] = []
    try:
        for free_values in passes:
            settings = schemathesis_config(
                options,
                headers,
                checks=CHECK_NAMES,
                free_values=free_values,
                # A shard holds only some ends of the links: stateful tests need them all.
                stateful=options.shard is None,
            )
            schemas.append(load_schema(copy.deepcopy(document), settings))
    except SchemaRejected as exc:
        raise UsageError(
            f"{options.spec.path}: Schemathesis cannot use this document: {exc}"
        ) from None
    chosen: list[str] | None = None
    if options.shard is not None:
        chosen = shard_of(schemas[0], *options.shard)
        schemas[0] = schemas[0].include(name=chosen)
    if pins:
        # The free pass: only the operations whose values the pins changed.
        affected = pinned_operations(schemas[0], pins)
        if chosen is not None:
            affected = [label for label in affected if label in chosen]
        schemas[1:] = [schemas[1].include(name=affected)] if affected else []
    streams = stream_responses(document)
    stream_check_names = stream_checks.STREAM_CHECK_NAMES if streams else ()
    result = RunResult(
        spec=str(options.spec.path),
        base_url=options.url,
        seed=options.seed,
        max_examples=options.max_examples,
        workers=options.workers,
        request_timeout=options.request_timeout,
        checks=(*CHECK_NAMES, RequestTimedOut.check, ResponseRefused.check, *stream_check_names),
        embedded=options.embedded,
        command=options.command(),
        pins=tuple(pin.argument() for pin in pins),
        shard=f"{options.shard[0]}/{options.shard[1]}" if options.shard else None,
    )
    result.notes += [str(warning) for warning in options.warnings]
    collector = Collector(result, Redactor(token), document, headers, progress)
    collector.prepare(schemas[0])
    started = time.monotonic()
    for number, schema in enumerate(schemas):
        collector.free_values = number > 0
        for event in run_engine(schema, options.limits):
            collector.handle(event)
        if collector.server_gone:
            break
    if collector.server_gone:
        result.notes.append("probes skipped: the server stopped answering")
    else:
        planned = probes.plan(document, collector.candidates, token)
        progress.start_phase("probes", len(planned))
        for outcome in probes.run(planned, options.request_timeout, options.limits):
            collector.probe(outcome)
        if streams:
            read_streams(options, collector, streams, headers)
    if options.shard is not None and _has_links(document):
        result.notes.append("stateful phase skipped: --shard splits the operations its links join")
    if token is None and any(
        security_of(document, ref.operation).required for ref in iter_operations(document)
    ):
        result.notes.append(
            "no --token: secured operations were checked only for their 401 answers"
        )
    missing = sorted(set(result.coverage) - set(collector.candidates))
    for label in missing:
        result.notes.append(f"{label}: no accepted request to base auth and method probes on")
    set_aside_unavailable(result)
    result.blocked = (
        wrong_base_url(result)
        or nothing_available(result)
        or (None if options.allow_unauthenticated else credentials_refused(result))
    )
    result.duration = time.monotonic() - started
    return result


def read_streams(
    options: Options,
    collector: Collector,
    streams: list[StreamResponse],
    headers: dict[str, str],
) -> None:
    """The stream checks, on the best accepted request per streaming operation."""
    planned, notes = stream_checks.plan(
        streams, collector.candidates, collector.streamed, collector.unanswered
    )
    collector.result.notes.extend(notes)
    limits = StreamLimits(
        max_events=options.stream_max_events,
        seconds=options.stream_timeout,
        max_bytes=options.max_response_bytes,
    )
    total = len(planned) + sum(len(stream.links) for stream, _ in planned)
    collector.progress.start_phase("streams", total)
    for outcome in stream_checks.run(
        collector.document,
        planned,
        limits,
        base_url=options.url,
        headers=headers,
        request_timeout=options.request_timeout,
    ):
        collector.stream(outcome)


def credentials_refused(result: RunResult) -> str | None:
    """Every authenticated request to every secured operation answered 401: a refused token."""
    tried = [row for row in result.coverage.values() if row.authenticated]
    if tried and all(set(row.authenticated) == {401} for row in tried):
        requests = sum(sum(row.authenticated.values()) for row in tried)
        operations = "operation" if len(tried) == 1 else f"{len(tried)} operations"
        return (
            f"the server refused the token: every authenticated request ({requests}) to the "
            f"secured {operations} was answered 401, so nothing past authentication was "
            f"tested; check --token or ${TOKEN_VARIABLE} "
            "(--allow-unauthenticated accepts such a run)"
        )
    return None


def wrong_base_url(result: RunResult) -> str | None:
    """Every request to every operation answered 404: the operations are not where we look."""
    rows = [row for row in result.coverage.values() if row.requests]
    if rows and all(set(row.statuses) == {404} for row in rows):
        return (
            f"every request to every operation was answered 404: the base URL is probably "
            f"wrong (a missing or extra path prefix?): --url {result.base_url}"
        )
    return None


def nothing_available(result: RunResult) -> str | None:
    """Every request to every operation answered 503: nothing could be checked."""
    rows = [row for row in result.coverage.values() if row.requests]
    if rows and all(set(row.statuses) <= {401, 503} for row in rows) and result.unavailable:
        return (
            "every operation answered 503 Service Unavailable (or 401 without credentials): "
            "the server is not serving yet; nothing was tested"
        )
    return None


def _has_links(document: dict[str, Any]) -> bool:
    return any(
        isinstance(response, dict) and response.get("links")
        for ref in iter_operations(document)
        for response in (ref.operation.get("responses") or {}).values()
    )


def shard_of(schema: BaseSchema, k: int, n: int) -> list[str]:
    """The labels of shard K of N: every Nth operation, by label order, from the Kth.

    Label order does not depend on the document's layout, so every CI job computes the same
    split; round-robin keeps the shards within one operation of each other in size.
    """
    labels = sorted(
        operation.label
        for operation in schema_operations(schema)
        if not isinstance(operation, Exception)
    )
    if n > len(labels):
        raise UsageError(f"--shard {k}/{n}: the document has only {len(labels)} operations")
    return labels[k - 1 :: n]


def pinned_operations(schema: BaseSchema, pins: Sequence[Pin]) -> list[str]:
    """Labels of the operations that declare at least one pinned parameter."""
    wanted = {(p.location, p.name) for p in pins}
    # An operation Schemathesis cannot read (an Exception here) is reported by Collector.prepare.
    return [
        operation.label
        for operation in schema_operations(schema)
        if not isinstance(operation, Exception) and parameter_keys(operation) & wanted
    ]
