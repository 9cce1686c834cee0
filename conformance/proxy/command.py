"""`contract proxy`: serve the proxy until SIGINT/SIGTERM, then print the summary, write reports.

Exit 0 when no exchange broke the contract, 1 when one did, 2 when the proxy cannot start (a bad
upstream URL, a taken port, an unusable spec) or cannot write its reports.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import shlex
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
import uvicorn

from generator.listen import listen
from generator.spec.errors import EXIT_UNUSABLE, ContractError, UsageError
from generator.spec.loader import load_spec
from generator.spec.validate import validate

from ..options import ensure_writable
from .checker import UPSTREAM_TIMEOUT, Session, Settings
from .exchange import Exchange
from .forward import ProxyApp, StrictJudge
from .strict import declared_error

GRACEFUL_SHUTDOWN_SECONDS = 5
QUEUE_SIZE = 256  # exchanges on their way to the checker, at most
# Exchanges cross to the checker in batches: one pickle and one pipe write per batch, not per
# exchange (the queue's feeder thread was a sixth of the proxy's time). A batch leaves when full
# or this long after its first exchange, so a violation is printed at most that much later.
BATCH_SIZE = 32
BATCH_SECONDS = 0.005
START_TIMEOUT = 120.0


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
    settings = Settings(
        spec=loaded.path,
        document=loaded.document,
        upstream=upstream,
        token=token,
        report_dir=report_dir,
        record=record,
        command=_command(loaded.path, upstream, report_dir, record, strict),
    )
    sock = listen(host, port)
    try:
        checks = InProcessChecks(settings) if strict else ProcessChecks(settings)
    except BaseException:
        sock.close()
        raise
    app = ProxyApp(
        upstream,
        checks.submit,
        strict=checks.strict(settings.document) if isinstance(checks, InProcessChecks) else None,
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
    code = checks.finish()
    return code if server.started else EXIT_UNUSABLE


class Stopped(Exception):
    """SIGTERM, after uvicorn's graceful shutdown."""


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise Stopped


class ProcessChecks:
    """The checks in a child process: they use the other core, and never hold the GIL the
    forwarding needs (a busy checker thread would slow every request down many times over).

    Exchanges go through a bounded queue: a proxy that checks slower than it forwards slows
    down instead of falling behind. The child ignores SIGINT and SIGTERM (a Ctrl-C reaches the
    whole process group): it stops when the queue ends, after the last exchange.
    """

    def __init__(self, settings: Settings) -> None:
        context = multiprocessing.get_context("fork")  # nothing runs in threads yet
        self.exchanges: multiprocessing.Queue[list[Exchange] | None] = context.Queue(
            QUEUE_SIZE // BATCH_SIZE
        )
        self.batch: list[Exchange] = []
        self.timer: asyncio.TimerHandle | None = None
        ready: multiprocessing.Queue[list[str] | None] = context.Queue()
        self.process = context.Process(
            target=run_checks, args=(settings, self.exchanges, ready), name="contract-proxy-checks"
        )
        self.process.start()
        problem = ready.get(timeout=START_TIMEOUT)
        if problem is not None:
            self.process.join()
            raise UsageError(problem[0])

    def submit(self, exchange: Exchange) -> None:
        """Called on the event loop, once per exchange."""
        self.batch.append(exchange)
        if len(self.batch) >= BATCH_SIZE:
            self._send()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(BATCH_SECONDS, self._send)

    def _send(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.batch:
            batch, self.batch = self.batch, []
            self.exchanges.put(batch)  # blocks while the queue is full: the proxy slows down

    def finish(self) -> int:
        self._send()  # what the last batch had when the server stopped
        self.exchanges.put(None)
        self.process.join()
        return self.process.exitcode if self.process.exitcode is not None else EXIT_UNUSABLE


class InProcessChecks:
    """`--strict`: each response is judged before it is sent, so the checks run in this process."""

    def __init__(self, settings: Settings) -> None:
        self.session = Session(settings)
        self.started = time.monotonic()

    def submit(self, exchange: Exchange) -> None:
        self.session.handle(exchange)

    def strict(self, document: dict[str, Any]) -> StrictJudge:
        session = self.session

        async def judged(exchange: Exchange) -> tuple[int, list[tuple[str, str]], bytes] | None:
            verdict = await anyio.to_thread.run_sync(session.handle, exchange)
            if not verdict.failures or verdict.operation is None:
                return None
            checks = [check for check, _ in verdict.failures]
            first = verdict.failures[0][1]
            line = (first.message or "").splitlines()[0] if first.message else ""
            return declared_error(document, verdict.operation, checks, f"{first.title}: {line}")

        return judged

    def finish(self) -> int:
        return self.session.finish(time.monotonic() - self.started)


def run_checks(
    settings: Settings,
    exchanges: multiprocessing.Queue[list[Exchange] | None],
    ready: multiprocessing.Queue[list[str] | None],
) -> None:
    """The child process of `ProcessChecks`; its exit code is the run's."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        session = Session(settings)
    except ContractError as exc:
        ready.put(exc.lines())
        return
    ready.put(None)
    started = time.monotonic()
    while (batch := exchanges.get()) is not None:
        for exchange in batch:
            session.handle(exchange)
    sys.exit(session.finish(time.monotonic() - started))


def checked_upstream(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--upstream {url!r}: give an http(s) URL, e.g. http://127.0.0.1:8000")
    return url.rstrip("/")


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
