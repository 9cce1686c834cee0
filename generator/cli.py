"""`contract`: parse the command line and wire generator, reference and conformance together.

No logic lives here: each command calls one function and maps its outcome to an exit code.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import __version__
from generator.spec.config import (
    TOKEN_VARIABLE,
    configured_token,
    load_config,
    output_for,
    package_for,
)
from generator.spec.errors import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, ContractError, Diagnostic
from generator.terminal.text import say

if TYPE_CHECKING:
    from generator.codegen.pipeline import Options

Handler = Callable[[argparse.Namespace], int]


def _validate(args: argparse.Namespace) -> int:
    from generator.spec.loader import load_spec
    from generator.spec.validate import validate

    path = _spec_path(args)
    if args.format == "json":
        return _validate_json(args, path)
    spec = load_spec(path, allow_remote_refs=args.allow_remote_refs)
    warnings = validate(spec)
    for warning in warnings:
        say(str(warning), style="yellow")
    noted = f" ({len(warnings)} warnings)" if warnings else ""
    print(f"{spec.path}: valid OpenAPI {spec.version}{noted}")
    return EXIT_OK


def _validate_json(args: argparse.Namespace, path: Path) -> int:
    from generator.formats import validate_json
    from generator.spec.loader import load_spec
    from generator.spec.validate import validate

    try:
        spec = load_spec(path, allow_remote_refs=args.allow_remote_refs)
        warnings = validate(spec)
    except ContractError as exc:
        print(validate_json(str(path), version=None, error=exc), end="")
        return exc.exit_code
    print(validate_json(str(spec.path), version=spec.version, warnings=warnings), end="")
    return EXIT_OK


def _generate(args: argparse.Namespace) -> int:
    from generator.codegen.output import ensure_parent_package, is_up_to_date, write_package
    from generator.codegen.pipeline import STAGES, generate_package, generation_inputs
    from generator.terminal.progress import Progress

    out, package = _out_and_package(args)
    spec = _spec_path(args)
    options = _generation_options(args)
    if not args.force and is_up_to_date(out, generation_inputs(spec, package, options)):
        print(f"{out}: up to date with {spec.name}; nothing written (--force rewrites)")
        return EXIT_OK
    progress = Progress.for_terminal(sys.stderr, STAGES)
    warnings: list[Diagnostic] = []
    try:
        files = generate_package(
            spec,
            package,
            allow_remote_refs=args.allow_remote_refs,
            progress=progress,
            previous=None if args.force else out,
            options=options,
            warn=warnings.append,
        )
    finally:
        progress.finish()  # the warnings after the progress line, which they would garble
        for warning in warnings:
            say(str(warning), style="yellow")
    removed = write_package(out, files, force=args.force)
    ensure_parent_package(out, package)
    print(f"wrote {len(files)} files to {out}: {', '.join(files)}")
    if removed:
        print(f"removed {len(removed)} files generation does not write: {', '.join(removed)}")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from generator.codegen.output import compare
    from generator.codegen.pipeline import generate_package

    out, package = _out_and_package(args)
    spec = _spec_path(args)
    as_json = args.format == "json"
    warnings: list[Diagnostic] = []
    try:
        files = generate_package(
            spec,
            package,
            allow_remote_refs=args.allow_remote_refs,
            options=_generation_options(args),
            warn=warnings.append if as_json else lambda w: say(str(w), style="yellow"),
        )
    except ContractError as exc:
        if not as_json:
            raise
        from generator.formats import check_json

        print(check_json(str(spec), str(out), warnings=warnings, error=exc), end="")
        return exc.exit_code
    result = compare(out, files)
    if as_json:
        from generator.formats import check_json

        report = check_json(
            str(spec),
            str(out),
            changed=result.changed,
            missing=result.missing,
            extra=result.extra,
            diff=result.diff,
            warnings=warnings,
        )
        print(report, end="")
        return EXIT_FAILED if result.stale else EXIT_OK
    if not result.stale:
        print(f"{out}: up to date")
        return EXIT_OK
    labelled = (("changed", result.changed), ("missing", result.missing), ("extra", result.extra))
    for label, names in labelled:
        for name in names:
            print(f"{out / name}: {label}", file=sys.stderr)
    for line in result.diff:
        print(line, file=sys.stderr)
    say(f"{out}: stale; run `contract generate` and commit the result", style="red")
    return EXIT_FAILED


def _diff(args: argparse.Namespace) -> int:
    from generator.diff.command import run_diff

    return run_diff(
        args.old,
        args.new,
        output_format=args.format,
        allow_invalid=args.allow_invalid,
        fail_on=args.fail_on,
    )


def _serve(args: argparse.Namespace) -> int:
    from reference.serve import ReferenceDidNotStart, serve

    token = configured_token(args.token)
    if token is None:
        token = secrets.token_urlsafe(32)
        print(
            f"contract serve: no --token or ${TOKEN_VARIABLE} given; "
            f"clients must send 'Authorization: Bearer {token}'",
            flush=True,
        )
    try:
        started = serve(
            host=args.host, port=args.port, token=token, db=args.db, workers=args.workers
        )
    except ReferenceDidNotStart as exc:
        print(f"contract serve: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    return EXIT_OK if started else EXIT_FAILED


def _conform(args: argparse.Namespace) -> int:
    from conformance.options import Options
    from conformance.runner import run_conformance

    def against(url: str, token: str | None, **embedded: Any) -> int:
        spec = _spec_path(args)
        try:
            return run_conformance(
                Options.build(
                    spec=spec,
                    url=url,
                    token=token,
                    params=args.param,
                    max_examples=args.max_examples,
                    seed=args.seed,
                    workers=args.workers,
                    request_timeout=args.request_timeout,
                    report_dir=Path(args.report) if args.report else None,
                    allow_unauthenticated=args.allow_unauthenticated,
                    max_response_bytes=args.max_response_bytes,
                    baseline=args.baseline,
                    write_baseline=args.write_baseline,
                    fail_under=args.fail_under,
                    shard=args.shard,
                    stream_timeout=args.stream_timeout,
                    stream_max_events=args.stream_max_events,
                    rename_duplicate_operation_ids=_rename_asked(args),
                    **embedded,
                )
            )
        except ContractError as exc:
            # Whatever makes the input unusable, an invalid spec included, conform exits 2.
            for line in exc.lines():
                print(line, file=sys.stderr)
            return EXIT_UNUSABLE

    if args.url is not None:
        return against(args.url, configured_token(args.token))
    from reference.embedded import embedded_reference
    from reference.serve import ReferenceDidNotStart

    if args.token:
        print(
            "contract conform: --token is ignored without --url "
            "(the embedded reference gets a fresh one)",
            file=sys.stderr,
        )
    try:
        with embedded_reference() as reference:
            return against(
                reference.url, reference.token, default_params=reference.params, embedded=True
            )
    except ReferenceDidNotStart as exc:
        print(f"contract conform: the embedded reference did not start: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE


def _explain(args: argparse.Namespace) -> int:
    from conformance.explain import lookup, render_explanation, render_index
    from generator.terminal.console import wants_colour, width_of

    width, colour = width_of(sys.stdout), wants_colour(sys.stdout)
    if args.code is None:
        print(render_index(width=width, colour=colour))
    else:
        print(render_explanation(lookup(args.code), width=width, colour=colour))
    return EXIT_OK


def _report_merge(args: argparse.Namespace) -> int:
    from conformance.merge import merge_folders
    from conformance.summary import render_summary
    from generator.terminal.console import wants_colour, width_of

    merged = merge_folders(
        [Path(folder) for folder in args.folders], Path(args.out), fail_under=args.fail_under
    )
    print(render_summary(merged, width=width_of(sys.stdout), colour=wants_colour(sys.stdout)))
    print(f"reports in {args.out}")
    return merged.exit_code


def _mock(args: argparse.Namespace) -> int:
    from generator.mock.server import serve_mock

    started = serve_mock(
        _spec_path(args),
        host=args.host,
        port=args.port,
        token=configured_token(args.token),
        seed=args.seed,
        dynamic=args.dynamic,
    )
    return EXIT_OK if started else EXIT_FAILED


def _proxy(args: argparse.Namespace) -> int:
    from conformance.proxy.command import run_proxy

    return run_proxy(
        _spec_path(args),
        upstream=args.upstream,
        host=args.host,
        port=args.port,
        token=configured_token(args.token),
        report_dir=Path(args.report) if args.report else None,
        record=Path(args.record) if args.record else None,
        strict=args.strict,
    )


def _spec_path(args: argparse.Namespace) -> Path:
    return Path(args.spec) if args.spec else load_config().spec


def _generation_options(args: argparse.Namespace) -> Options:
    """generate's and check's options: a flag given wins over [tool.contract]."""
    from generator.codegen.pipeline import Options

    return Options(rename_duplicate_operation_ids=_rename_asked(args))


def _out_and_package(args: argparse.Namespace) -> tuple[Path, str]:
    if args.out:
        out = Path(args.out)
        return out, args.package or package_for(out)
    out, package = output_for(_spec_path(args), load_config())
    return out, args.package or package


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contract",
        description="Contract-first toolkit: the OpenAPI document is the single source of truth.",
        epilog="Without SPEC/--out, commands read [tool.contract] from the nearest pyproject.toml.",
    )
    parser.add_argument("--version", action="version", version=f"contract {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    # --debug is accepted after the command too; SUPPRESS keeps a subcommand from resetting it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_parser_with(common)
    )

    validate = commands.add_parser(
        "validate",
        help="validate a spec against OpenAPI 3.0/3.1/3.2",
        description="Exit 0 valid, 1 invalid (one line per problem: file#pointer: message), "
        "2 unreadable or not OpenAPI 3.x.",
    )
    validate.add_argument("spec", nargs="?", metavar="SPEC", help="OpenAPI YAML or JSON file")
    _add_remote_refs_argument(validate)
    _add_format_argument(validate)
    validate.set_defaults(handler=_validate)

    generate = commands.add_parser(
        "generate",
        help="generate models, interface, responses and app",
        description="Write the generated package atomically; on any error the previous "
        "output is untouched. Exit 0 written, 1 invalid or unsupported spec, 2 unreadable.",
    )
    _add_generation_arguments(generate)
    generate.add_argument(
        "--force", action="store_true", help="replace an output folder with files we did not write"
    )
    generate.set_defaults(handler=_generate)

    check = commands.add_parser(
        "check",
        help="fail when the generated package is stale",
        description="Exit 0 when the output folder is byte-identical to what `generate` would "
        "write, 1 (with the files that differ and a diff) when it is stale.",
    )
    _add_generation_arguments(check)
    _add_format_argument(check)
    check.set_defaults(handler=_check)

    diff = commands.add_parser(
        "diff",
        help="classify every change between two contracts",
        description="Every change between OLD and NEW, classified breaking, warn (the spec "
        "cannot tell) or non-breaking. OLD and NEW are files or git:REV:path. Exit 1 if "
        "anything is at or above --fail-on (default breaking), else 0; "
        "2 when a contract cannot be read or NEW is not valid OpenAPI (see --allow-invalid).",
    )
    diff.add_argument("old", metavar="OLD", help="the contract before (file or git:REV:path)")
    diff.add_argument("new", metavar="NEW", help="the contract after (file or git:REV:path)")
    diff.add_argument(
        "--format", choices=("text", "json", "markdown"), default="text", help="output format"
    )
    diff.add_argument(
        "--fail-on",
        choices=("breaking", "warn"),
        default="breaking",
        help="exit 1 on a change at this level or above (default breaking)",
    )
    diff.add_argument(
        "--allow-invalid",
        action="store_true",
        help="compare a NEW that breaks the OpenAPI specification (its problems become warnings)",
    )
    diff.set_defaults(handler=_diff)

    serve = commands.add_parser(
        "serve",
        help="run the reference implementation with uvicorn",
        description="Serve the reference implementation. The bearer token comes from --token, "
        "else $CONTRACT_TOKEN, else a random one printed at start: never unauthenticated. "
        "Exit 0 after a clean shutdown (Ctrl-C, SIGTERM), 1 when the server failed while "
        "running, 2 when it cannot start (the port is taken, the database is unusable).",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port, 1-65535 (default 8000)")
    serve.add_argument("--token", help="bearer token clients must send (default $CONTRACT_TOKEN)")
    serve.add_argument(
        "--db",
        help="where runs are stored: a SQLite file (default: agentos.db; one instance per file) "
        "or postgresql://user:password@host:port/name (any number of instances)",
    )
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="uvicorn worker processes sharing the port and the database (default 1)",
    )
    serve.set_defaults(handler=_serve)

    conform = commands.add_parser(
        "conform",
        help="check any server's conformance to the spec",
        description="Schemathesis plus stricter checks against --url (default: start the "
        "reference on a free loopback port). Exit 0 conformant, 1 violations found, "
        "2 usage, schema or connection error.",
    )
    conform.add_argument("spec", nargs="?", metavar="SPEC", help="OpenAPI YAML or JSON file")
    conform.add_argument("--url", help="base URL of the server under test")
    conform.add_argument("--token", help="bearer token for the server under test")
    conform.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="LOCATION.NAME=VALUE",
        help="a known-good value, e.g. path.workflow_id=demo (repeatable)",
    )
    conform.add_argument("--max-examples", type=int, default=50, help="cases per operation")
    conform.add_argument("--seed", type=int, help="random seed; the same seed repeats the run")
    conform.add_argument("--workers", type=int, default=1, help="concurrent workers")
    conform.add_argument(
        "--request-timeout", type=float, default=10.0, help="seconds before a request is a finding"
    )
    conform.add_argument(
        "--report", metavar="DIR", help="write junit.xml, report.md, report.json, report.html"
    )
    conform.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="check a server without a token it accepts: secured operations are then checked "
        "only for their 401 answers (by default such a run is exit 2, nothing past "
        "authentication having been tested)",
    )
    # Untrusted-server bounds (conform-bounds).
    conform.add_argument(
        "--max-response-bytes",
        type=int,
        default=8 * 1024 * 1024,
        metavar="N",
        help="bytes of one response body, on the wire and decoded, past which the response is "
        "a finding; a stream ends there (default 8 MiB)",
    )
    # CI gates and sharding (conform-bounds).
    conform.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="fail only on findings this baseline (from --write-baseline) does not hold",
    )
    conform.add_argument(
        "--write-baseline",
        type=Path,
        metavar="FILE",
        help="write the stable keys of this run's findings to FILE",
    )
    conform.add_argument(
        "--fail-under",
        type=float,
        metavar="PCT",
        help="exit 1 when fewer than PCT percent of the declared statuses were exercised",
    )
    conform.add_argument(
        "--shard",
        metavar="K/N",
        help="check only shard K of N of the operations (merge with `contract report merge`)",
    )
    # Stream limits (stream-conform).
    conform.add_argument(
        "--stream-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds one stream may take to end (and to end after an ends-stream link)",
    )
    conform.add_argument(
        "--stream-max-events",
        type=int,
        default=1000,
        metavar="N",
        help="items of one stream the runner reads before it calls the stream endless",
    )
    _add_rename_argument(conform)
    conform.set_defaults(handler=_conform)

    explain = commands.add_parser(
        "explain",
        help="what a finding code (CT101...) means and how to fix a server that fails it",
        description="Print what the check behind a finding code means, why it matters and how "
        "to fix a server that fails it; without CODE, list every code. Exit 0, or 2 for an "
        "unknown code (with the closest known ones).",
    )
    explain.add_argument("code", nargs="?", metavar="CODE", help="a finding code, e.g. CT103")
    explain.set_defaults(handler=_explain)
    report = commands.add_parser("report", help="work with conformance report folders")
    reports = report.add_subparsers(
        dest="report_command",
        required=True,
        metavar="SUBCOMMAND",
        parser_class=_parser_with(common),
    )
    merge = reports.add_parser(
        "merge",
        help="one report from the report folders of sharded runs",
        description="Merge the report folders of `contract conform --shard K/N --report DIR` runs "
        "into one (the coverage matrix and findings of the whole API). Exit 0 conformant, "
        "1 findings (or under --fail-under), 2 unreadable folders or shards missing.",
    )
    merge.add_argument("folders", nargs="+", metavar="DIR", help="report folders to merge")
    merge.add_argument("--out", required=True, metavar="DIR", help="write the merged report here")
    merge.add_argument(
        "--fail-under",
        type=float,
        metavar="PCT",
        help="exit 1 when fewer than PCT percent of the declared statuses were exercised",
    )
    merge.set_defaults(handler=_report_merge)
    mock = commands.add_parser(
        "mock",
        help="serve any contract with no implementation (examples, else generated data)",
        description="Serve every operation of SPEC from its examples, else from data generated "
        "from the schema, always valid against it, with the generated server's guarantees "
        "(declared 401, declared 4xx for invalid requests, 405 with Allow). `Prefer: code=404` "
        "and `Prefer: example=NAME` choose a declared response. Without --token (or "
        f"${TOKEN_VARIABLE}) any credential of the declared scheme is accepted. Exit 0 after a "
        "clean shutdown, 2 when it cannot start.",
    )
    mock.add_argument("spec", nargs="?", metavar="SPEC", help="OpenAPI YAML or JSON file")
    mock.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    mock.add_argument("--port", type=_port, default=8000, help="port, 1-65535 (default 8000)")
    mock.add_argument("--token", help="the only credential accepted (default $CONTRACT_TOKEN)")
    mock.add_argument(
        "--seed", type=_seed, default=0, help="seed of the generated data (default 0)"
    )
    mock.add_argument(
        "--dynamic",
        action="store_true",
        help="generate fresh data for every request instead of the same answer each time",
    )
    mock.set_defaults(handler=_mock)

    proxy = commands.add_parser(
        "proxy",
        help="forward live traffic and check every exchange against the contract",
        description="Forward each request to --upstream unchanged and each response back "
        "unchanged (streams included), checking every exchange with the checks of `contract "
        "conform`; each violation is printed as it happens, the reports are written when the "
        "proxy stops (Ctrl-C, SIGTERM). Exit 0 no violation seen, 1 violations seen, 2 when it "
        "cannot start or write its reports.",
    )
    proxy.add_argument("spec", nargs="?", metavar="SPEC", help="OpenAPI YAML or JSON file")
    proxy.add_argument("--upstream", required=True, help="base URL of the server to forward to")
    proxy.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    proxy.add_argument("--port", type=_port, default=8000, help="port, 1-65535 (default 8000)")
    proxy.add_argument(
        "--token",
        help="the token clients send (default $CONTRACT_TOKEN): redacted from the reports and "
        "the HAR, and what tells an authenticated request from one that is not",
    )
    proxy.add_argument("--report", metavar="DIR", help="write junit.xml, report.md, report.json")
    proxy.add_argument("--record", metavar="FILE.har", help="record every exchange as HAR")
    proxy.add_argument(
        "--strict",
        action="store_true",
        help="answer a violating response with a declared 5xx instead of passing it on",
    )
    proxy.set_defaults(handler=_proxy)
    return parser


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 0 <= seed < 2**63:
        raise argparse.ArgumentTypeError("the seed must be a non-negative integer below 2**63")
    return seed


def _workers(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers") from None
    if not 1 <= count <= 64:
        raise argparse.ArgumentTypeError(f"{count} workers: use 1-64")
    return count


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 1-65535")
    return port


def _parser_with(common: argparse.ArgumentParser) -> type[argparse.ArgumentParser]:
    """A parser class whose instances (the subcommands) also take `common`'s options."""

    class CommandParser(argparse.ArgumentParser):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(parents=[common], **kwargs)

    return CommandParser


def _add_generation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", nargs="?", metavar="SPEC", help="OpenAPI YAML or JSON file")
    parser.add_argument("--out", metavar="DIR", help="output package folder")
    parser.add_argument("--package", metavar="NAME", help="import name of the package")
    _add_remote_refs_argument(parser)
    _add_rename_argument(parser)


def _add_rename_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rename-duplicate-operation-ids",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="rename later uses of an operationId (get_config -> get_config_2), with a warning "
        "each, instead of refusing the spec (default: [tool.contract] "
        "rename_duplicate_operation_ids, else refuse)",
    )


def _rename_asked(args: argparse.Namespace) -> bool:
    """The flag when given, else [tool.contract]'s key."""
    if args.rename_duplicate_operation_ids is not None:
        return bool(args.rename_duplicate_operation_ids)
    return load_config().rename_duplicate_operation_ids


def _add_format_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text lines (default), or one JSON object on stdout, problems included",
    )


def _add_remote_refs_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-remote-refs",
        action="store_true",
        help="fetch http(s) $refs (10 s timeout, size-limited); by default they are refused",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ContractError as exc:
        for line in exc.lines():
            say(line, style="red")
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: one line, unless asked for the traceback
        if args.debug:
            traceback.print_exc()
        else:
            problem = f"{type(exc).__name__}: {exc}"
            say(f"internal error: {problem} (rerun with --debug)", style="red")
        return EXIT_UNUSABLE


if __name__ == "__main__":
    sys.exit(main())
