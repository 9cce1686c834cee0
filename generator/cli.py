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

if TYPE_CHECKING:
    from generator.codegen.pipeline import Options

Handler = Callable[[argparse.Namespace], int]


def _validate(args: argparse.Namespace) -> int:
    from generator.spec.loader import load_spec
    from generator.spec.validate import validate

    spec = load_spec(_spec_path(args), allow_remote_refs=args.allow_remote_refs)
    warnings = validate(spec)
    for warning in warnings:
        print(warning, file=sys.stderr)
    noted = f" ({len(warnings)} warnings)" if warnings else ""
    print(f"{spec.path}: valid OpenAPI {spec.version}{noted}")
    return EXIT_OK


def _generate(args: argparse.Namespace) -> int:
    from generator.codegen.output import ensure_parent_package, is_up_to_date, write_package
    from generator.codegen.pipeline import STAGES, generate_package, generation_inputs
    from generator.codegen.progress import Progress

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
            print(warning, file=sys.stderr)
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
    files = generate_package(
        spec,
        package,
        allow_remote_refs=args.allow_remote_refs,
        options=_generation_options(args),
        warn=lambda warning: print(warning, file=sys.stderr),
    )
    result = compare(out, files)
    if not result.stale:
        print(f"{out}: up to date")
        return EXIT_OK
    labelled = (("changed", result.changed), ("missing", result.missing), ("extra", result.extra))
    for label, names in labelled:
        for name in names:
            print(f"{out / name}: {label}", file=sys.stderr)
    for line in result.diff:
        print(line, file=sys.stderr)
    print(f"{out}: stale; run `contract generate` and commit the result", file=sys.stderr)
    return EXIT_FAILED


def _diff(args: argparse.Namespace) -> int:
    from generator.diff.command import run_diff

    return run_diff(args.old, args.new, output_format=args.format, allow_invalid=args.allow_invalid)


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


def _spec_path(args: argparse.Namespace) -> Path:
    return Path(args.spec) if args.spec else load_config().spec


def _generation_options(args: argparse.Namespace) -> Options:
    """generate's and check's options: a flag given wins over [tool.contract]."""
    from generator.codegen.pipeline import Options

    rename = args.rename_duplicate_operation_ids
    if rename is None:
        rename = load_config().rename_duplicate_operation_ids
    return Options(rename_duplicate_operation_ids=rename)


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
        help="validate a spec against OpenAPI 3.0/3.1",
        description="Exit 0 valid, 1 invalid (one line per problem: file#pointer: message), "
        "2 unreadable or not OpenAPI 3.x.",
    )
    validate.add_argument("spec", nargs="?", metavar="SPEC", help="OpenAPI YAML or JSON file")
    _add_remote_refs_argument(validate)
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
    check.set_defaults(handler=_check)

    diff = commands.add_parser(
        "diff",
        help="classify every change between two contracts",
        description="Every change between OLD and NEW, classified breaking or non-breaking. "
        "OLD and NEW are files or git:REV:path. Exit 1 if anything is breaking, else 0; "
        "2 when a contract cannot be read or NEW is not valid OpenAPI (see --allow-invalid).",
    )
    diff.add_argument("old", metavar="OLD", help="the contract before (file or git:REV:path)")
    diff.add_argument("new", metavar="NEW", help="the contract after (file or git:REV:path)")
    diff.add_argument(
        "--format", choices=("text", "json", "markdown"), default="text", help="output format"
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
    conform.add_argument("--report", metavar="DIR", help="write junit.xml, report.md, report.json")
    conform.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="check a server without a token it accepts: secured operations are then checked "
        "only for their 401 answers (by default such a run is exit 2, nothing past "
        "authentication having been tested)",
    )
    conform.set_defaults(handler=_conform)
    return parser


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
    parser.add_argument(
        "--rename-duplicate-operation-ids",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="rename later uses of an operationId (get_config -> get_config_2), with a warning "
        "each, instead of refusing the spec (default: [tool.contract] "
        "rename_duplicate_operation_ids, else refuse)",
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
            print(line, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: one line, unless asked for the traceback
        if args.debug:
            traceback.print_exc()
        else:
            problem = f"{type(exc).__name__}: {exc}"
            print(f"internal error: {problem} (rerun with --debug)", file=sys.stderr)
        return EXIT_UNUSABLE


if __name__ == "__main__":
    sys.exit(main())
