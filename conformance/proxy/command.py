"""`contract proxy`: serve the proxy until SIGINT/SIGTERM, then print the summary, write reports.

Exit 0 when no exchange broke the contract, 1 when one did, 2 when the proxy cannot start (a bad
upstream URL, a taken port, an unusable spec) or cannot write its reports.
"""

from __future__ import annotations

import copy
import queue
import shlex
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import anyio.to_thread
import uvicorn

from generator.spec.errors import EXIT_UNUSABLE, UsageError
from generator.spec.loader import load_spec
from generator.spec.validate import validate

from ..checks import CHECK_NAMES
from ..options import ensure_writable
from ..report import render_summary, write_reports
from ..results import RunResult
from ..schemathesis_api import SchemaRejected
from .exchange import Exchange, printable
from .forward import ProxyApp, StrictJudge
from .har import HarRecorder
from .judge import Judge, Verdict
from .strict import declared_error

GRACEFUL_SHUTDOWN_SECONDS = 5
UPSTREAM_TIMEOUT = 60.0


def run_proxy(
    spec: Path,
    *,
    upstream: str,
    host: str,
    port: int,
    token: str | None,
    report_dir: Path | None,
    record: Path | None,
    strict: bool,
) -> int:
    upstream = checked_upstream(upstream)
    if report_dir is not None:
        ensure_writable(report_dir)
    loaded = load_spec(spec)
    validate(loaded)
    result = RunResult(
        spec=str(loaded.path),
        base_url=upstream,
        seed=0,
        max_examples=0,
        workers=1,
        request_timeout=UPSTREAM_TIMEOUT,
        checks=CHECK_NAMES,
        phases=["proxy"],
        command=_command(loaded.path, upstream, report_dir, record, strict),
    )
    try:
        judge = Judge(copy.deepcopy(loaded.document), result, token, upstream)
    except SchemaRejected as exc:
        raise UsageError(f"{loaded.path}: Schemathesis cannot use this document: {exc}") from None
    try:
        har = HarRecorder(record, token, judge.carriers) if record is not None else None
    except OSError as exc:
        raise UsageError(f"cannot write {record}: {exc.strerror or exc}") from None
    sock = listen(host, port)
    checker = Checker(judge, har)
    app = ProxyApp(
        upstream,
        checker.submit,
        strict=_strict(judge, checker) if strict else None,
        timeout=UPSTREAM_TIMEOUT,
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = uvicorn.Server(config)
    mode = " (strict)" if strict else ""
    print(
        f"contract proxy: http://{host}:{port} -> {upstream}, checking against "
        f"{loaded.path.name}{mode}",
        flush=True,
    )
    started = time.monotonic()
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again for the
    # previous handler: here that ends `run` with an exception, and the reports get written.
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        server.run(sockets=[sock])
    except (KeyboardInterrupt, Stopped, SystemExit):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()
        checker.close()
        if har is not None:
            har.close()
    result.duration = time.monotonic() - started
    print("\n".join(printable(line, limit=2000) for line in render_summary(result).splitlines()))
    if record is not None:
        print(f"recorded: {record}")
    if report_dir is not None:
        try:
            written = write_reports(result, report_dir)
        except OSError as exc:
            print(f"contract proxy: cannot write reports to {report_dir}: {exc}", file=sys.stderr)
            return EXIT_UNUSABLE
        print(f"reports: {', '.join(str(p) for p in written)}")
    if not server.started:
        return EXIT_UNUSABLE
    return result.exit_code


class Stopped(Exception):
    """SIGTERM, after uvicorn's graceful shutdown."""


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise Stopped


class Checker:
    """Judges exchanges on its own thread, in arrival order; prints each violation as it comes."""

    def __init__(self, judge: Judge, har: HarRecorder | None) -> None:
        self.judge = judge
        self.har = har
        self.queue: queue.Queue[Exchange | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="contract-proxy-checks", daemon=True)
        self.thread.start()

    def submit(self, exchange: Exchange) -> None:
        self.queue.put(exchange)

    def close(self) -> None:
        """Judge what is still queued, then stop."""
        self.queue.put(None)
        self.thread.join()

    def _run(self) -> None:
        while True:
            exchange = self.queue.get()
            if exchange is None:
                return
            self.handle(exchange)

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


def report(exchange: Exchange, verdict: Verdict) -> None:
    """One escaped line per failed check: nothing the upstream sent reaches the terminal raw."""
    for check, failure in verdict.failures:
        first = (failure.message or "").splitlines()[0] if failure.message else ""
        line = (
            f"violation: {check} · {verdict.operation} · {exchange.method} {exchange.path} "
            f"-> {exchange.status}: {failure.title}: {first}"
        )
        print(printable(line, limit=400), flush=True)


def _strict(judge: Judge, checker: Checker) -> StrictJudge:
    async def strict(exchange: Exchange) -> tuple[int, list[tuple[str, str]], bytes] | None:
        verdict = await anyio.to_thread.run_sync(checker.handle, exchange)
        if not verdict.failures or verdict.operation is None:
            return None
        checks = [check for check, _ in verdict.failures]
        first = verdict.failures[0][1]
        message = f"{first.title}: {(first.message or '').splitlines()[0] if first.message else ''}"
        return declared_error(judge.document, verdict.operation, checks, message)

    return strict


def checked_upstream(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--upstream {url!r}: give an http(s) URL, e.g. http://127.0.0.1:8000")
    return url.rstrip("/")


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, or UsageError naming why not (a taken port: exit 2)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (OSError, OverflowError) as exc:
        sock.close()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def _command(
    spec: Path, upstream: str, report_dir: Path | None, record: Path | None, strict: bool
) -> str:
    parts = ["contract", "proxy", str(spec), "--upstream", upstream]
    if report_dir is not None:
        parts += ["--report", str(report_dir)]
    if record is not None:
        parts += ["--record", str(record)]
    if strict:
        parts.append("--strict")
    return " ".join(shlex.quote(p) for p in parts)
