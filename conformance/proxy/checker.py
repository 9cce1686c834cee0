"""What happens to an exchange once it is forwarded: judged, printed, recorded; then the reports.

A `Session` holds the run: the judge (with its `RunResult`), the HAR recorder. It runs in the
proxy's checker process (or, with `--strict`, in the proxy itself).
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.spec.errors import EXIT_UNUSABLE, UsageError
from generator.terminal.console import wants_colour, width_of

from ..checks import CHECK_NAMES
from ..report import write_reports
from ..results import RunResult
from ..schemathesis_api import SchemaRejected
from ..summary import render_summary
from .exchange import Exchange, printable
from .har import HarRecorder
from .judge import Judge, Verdict

UPSTREAM_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Settings:
    spec: Path
    document: dict[str, Any]
    upstream: str
    token: str | None
    report_dir: Path | None
    record: Path | None
    command: str


class Session:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.result = RunResult(
            spec=str(settings.spec),
            base_url=settings.upstream,
            seed=0,
            max_examples=0,
            workers=1,
            request_timeout=UPSTREAM_TIMEOUT,
            checks=CHECK_NAMES,
            phases=["proxy"],
            command=settings.command,
        )
        try:
            self.judge = Judge(
                copy.deepcopy(settings.document), self.result, settings.token, settings.upstream
            )
        except SchemaRejected as exc:
            raise UsageError(
                f"{settings.spec}: Schemathesis cannot use this document: {exc}"
            ) from None
        record = settings.record
        try:
            self.har = HarRecorder(record, settings.token, self.judge.carriers) if record else None
        except OSError as exc:
            raise UsageError(f"cannot write {record}: {exc.strerror or exc}") from None

    def handle(self, exchange: Exchange) -> Verdict:
        try:
            verdict = self.judge.judge(exchange)
        except Exception as exc:  # a bug of ours must not stop the proxy: one line, go on
            self.judge.collector.error(f"{exchange.method} {exchange.path}: not checked: {exc}")
            verdict = Verdict(None, (), ())
        report(exchange, verdict)
        if self.har is not None:
            self.har.record(exchange)
        return verdict

    def finish(self, duration: float) -> int:
        """Print the summary, write the reports and the HAR; the exit code of the run."""
        if self.har is not None:
            self.har.close()
        self.result.duration = duration
        print(
            render_summary(self.result, width=width_of(sys.stdout), colour=wants_colour(sys.stdout))
        )
        if self.settings.record is not None:
            print(f"recorded: {self.settings.record}")
        if self.settings.report_dir is not None:
            try:
                written = write_reports(self.result, self.settings.report_dir)
            except OSError as exc:
                print(
                    f"contract proxy: cannot write reports to {self.settings.report_dir}: {exc}",
                    file=sys.stderr,
                )
                return EXIT_UNUSABLE
            print(f"reports: {', '.join(str(p) for p in written)}")
        sys.stdout.flush()
        return self.result.exit_code


def report(exchange: Exchange, verdict: Verdict) -> None:
    """One escaped line per failed check: nothing the upstream sent reaches the terminal raw."""
    for check, failure in verdict.failures:
        first = (failure.message or "").splitlines()[0] if failure.message else ""
        line = (
            f"violation: {check} · {verdict.operation} · {exchange.method} {exchange.path} "
            f"-> {exchange.status}: {failure.title}: {first}"
        )
        print(printable(line, limit=400), flush=True)
