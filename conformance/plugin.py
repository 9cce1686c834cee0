"""The conformance suite inside pytest: `pytest -p conformance.plugin --contract-url URL`.

With `--contract-url`, the session gains `contract::run` (fails when the run could not test the
server) and one test `contract::METHOD /path::check` per operation × check (the junit.xml layout),
all fed by a single run of the suite against that URL; an operation that never answered a declared
2xx is skipped as untested, not passed. Without `--contract-url` the plugin adds nothing.
Everything beyond pytest is imported lazily, so loading the plugin costs nothing when it is not
used.

Options: --contract-url, --contract-token (default $CONTRACT_TOKEN), --contract-spec (default
`[tool.contract] spec` of the rootdir's pyproject.toml), --contract-param LOCATION.NAME=VALUE
(repeatable), --contract-max-examples, --contract-seed, --contract-request-timeout,
--contract-report DIR, --contract-allow-unauthenticated.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .bounded_http import DEFAULT_MAX_RESPONSE_BYTES

if TYPE_CHECKING:
    from .options import Options
    from .results import Finding, RunResult


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "contract conformance (conformance.plugin)")
    group.addoption("--contract-url", help="check the server at this base URL against the spec")
    group.addoption("--contract-token", help="bearer token (default: $CONTRACT_TOKEN)")
    group.addoption("--contract-spec", help="OpenAPI file (default: [tool.contract] spec)")
    group.addoption(
        "--contract-param",
        action="append",
        default=[],
        metavar="LOCATION.NAME=VALUE",
        help="a known-good parameter value, e.g. path.workflow_id=demo (repeatable)",
    )
    group.addoption("--contract-max-examples", type=int, default=20, help="cases per operation")
    group.addoption("--contract-seed", type=int, help="random seed; the same seed repeats the run")
    group.addoption(
        "--contract-request-timeout", type=float, default=10.0, help="seconds per request"
    )
    group.addoption(
        "--contract-stream-timeout", type=float, default=10.0, help="seconds per stream read"
    )
    group.addoption(
        "--contract-stream-max-events", type=int, default=1000, help="items per stream read"
    )
    group.addoption("--contract-report", help="also write junit.xml, report.md, report.json here")
    group.addoption(
        "--contract-allow-unauthenticated",
        action="store_true",
        help="check a server without a token it accepts (secured operations: 401 answers only)",
    )
    group.addoption(
        "--contract-max-response-bytes",
        type=int,
        default=DEFAULT_MAX_RESPONSE_BYTES,
        help="bytes of one response body, on the wire and decoded (default 8 MiB)",
    )


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not config.getoption("contract_url"):
        return
    suite = ContractSuite.from_parent(
        session, name="contract", nodeid="contract", spec=spec_path(config)
    )
    items.extend(suite.collect())


def spec_path(config: pytest.Config) -> Path:
    given = config.getoption("contract_spec")
    if given:
        return Path(given)
    pyproject = config.rootpath / "pyproject.toml"
    try:
        settings = tomllib.loads(pyproject.read_text("utf-8"))
        return config.rootpath / str(settings["tool"]["contract"]["spec"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        raise pytest.UsageError(
            "--contract-url needs --contract-spec (no [tool.contract] spec in pyproject.toml)"
        ) from None


class ContractSuite(pytest.Collector):
    """`contract::run`, then one item per operation × check; the suite runs once, when the first
    item needs it. A server that cannot be checked at all (unreachable, or our token refused)
    ends the session before any item, with the one line `contract conform` would print."""

    def __init__(self, *, spec: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.outcome: RunResult | None = None
        self.options: Options | None = None

    def collect(self) -> list[pytest.Item]:
        from .checks import CHECK_NAMES
        from .failures import RequestTimedOut
        from .stream_checks import STREAM_CHECK_NAMES
        from .streams_spec import stream_responses

        self.options = self._usable_options()
        streams = STREAM_CHECK_NAMES if stream_responses(self.options.spec.document) else ()
        checks = (*CHECK_NAMES, RequestTimedOut.check, *streams)
        return [
            RunItem.from_parent(self, name="run"),
            *(
                ContractItem.from_parent(
                    self, name=f"{label}::{check}", operation=label, check=check
                )
                for label in operation_labels(self.spec)
                for check in checks
            ),
        ]

    def _usable_options(self) -> Options:
        from generator.spec.config import configured_token
        from generator.spec.errors import ContractError

        from .options import Options
        from .preflight import Unusable
        from .runner import ensure_usable

        option = self.config.getoption
        report = option("contract_report")
        try:
            options = Options.build(
                spec=self.spec,
                url=option("contract_url"),
                token=configured_token(option("contract_token")),
                params=option("contract_param"),
                max_examples=option("contract_max_examples"),
                seed=option("contract_seed"),
                request_timeout=option("contract_request_timeout"),
                report_dir=Path(report) if report else None,
                allow_unauthenticated=option("contract_allow_unauthenticated"),
                max_response_bytes=option("contract_max_response_bytes"),
                stream_timeout=option("contract_stream_timeout"),
                stream_max_events=option("contract_stream_max_events"),
            )
            ensure_usable(options)
        except ContractError as exc:
            pytest.exit("contract conform: " + "; ".join(exc.lines()), returncode=2)
        except Unusable as exc:
            pytest.exit(f"contract conform: {exc}", returncode=2)
        return options

    def result(self) -> RunResult:
        if self.outcome is None:
            self.outcome = self._run()
        return self.outcome

    def _run(self) -> RunResult:
        from generator.terminal.progress import Progress

        from .report import write_reports
        from .runner import conform

        assert self.options is not None, "collect() checked the server and built the options"
        result = conform(self.options, Progress(enabled=False))
        if self.options.report_dir is not None:
            write_reports(result, self.options.report_dir)
        return result


def operation_labels(spec: Path) -> Iterator[str]:
    """`METHOD /path` for every operation, in document order (as Schemathesis labels them)."""
    from generator.spec.errors import ContractError
    from generator.spec.loader import load_spec
    from generator.spec.openapi import iter_operations

    try:
        document = load_spec(spec).document
    except ContractError as exc:
        raise pytest.UsageError("; ".join(exc.lines())) from None
    for ref in iter_operations(document):
        yield f"{ref.method.upper()} {ref.path}"


class ContractFailure(Exception):
    def __init__(self, findings: list[Finding], seed: int) -> None:
        super().__init__(f"{len(findings)} finding(s)")
        self.findings = findings
        self.seed = seed


class RunItem(pytest.Item):
    """The run as a whole: fails when it could not test the server (errors, a refused token)."""

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, ContractSuite)
        result = parent.result()
        problems = [f"not tested: {result.blocked}"] if result.blocked else []
        problems += [f"error: {error}" for error in result.errors]
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, "contract: the run"


class ContractItem(pytest.Item):
    def __init__(self, *, operation: str, check: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.operation = operation
        self.check = check

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, ContractSuite)
        result = parent.result()
        if result.blocked:
            pytest.skip(f"not tested: {result.blocked}")
        findings = result.findings_by_check().get((self.operation, self.check), [])
        if findings:
            raise ContractFailure(findings, result.seed)
        if self.operation in result.untested():
            pytest.skip(
                "not tested: it never answered a declared 2xx; only its errors were checked"
            )

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        from generator.spec.config import TOKEN_VARIABLE

        from .results import TOKEN_PLACEHOLDER

        error = excinfo.value
        if not isinstance(error, ContractFailure):
            return str(super().repr_failure(excinfo, style=style))
        lines: list[str] = []
        for finding in error.findings:
            times = f" (seen {finding.occurrences}×)" if finding.occurrences > 1 else ""
            lines += [f"[{finding.severity}] {finding.title}{times}", finding.message]
            if finding.exchange is not None:
                lines += [f"reproduce (seed {error.seed}): {finding.exchange.curl()}"]
                if TOKEN_PLACEHOLDER in lines[-1]:
                    lines += [
                        f"  (the curl line reads the token from ${TOKEN_VARIABLE}: set it to "
                        "the --contract-token value first)"
                    ]
            lines.append("")
        return "\n".join(lines).rstrip()

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"contract: {self.operation} · {self.check}"
