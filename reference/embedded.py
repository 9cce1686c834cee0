"""The reference served inside this process, for `contract conform` without --url.

The CLI starts it and hands conformance only its URL, token and demo values, as for any server.
It gets a fresh random token, a temporary SQLite database that disappears with the run, and a
loopback socket bound before uvicorn starts (no window in which another process takes the port).
uvicorn runs on its own thread and event loop, so the run's requests reach it over real HTTP.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from .serve import ReferenceDidNotStart, listen, open_app
from .workflows import STEP_SECONDS_VARIABLE, demo_workflows

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
# Known-good values for the demo data: with them every operation can answer its 2xx. The run is
# one the embedded reference starts and cancels before the check begins: reading it answers 200,
# and so does cancelling it again (a cancel is idempotent), whatever the stateful phase does.
DEMO_WORKFLOW = "demo-sequential"
SEED_ATTEMPTS = 5
# Shorter than the served default (a conformance run starts many runs without `background` and
# waits for each); the contract is the same. $AGENTOS_DEMO_STEP_SECONDS still wins when set.
EMBEDDED_STEP_SECONDS = 0.5
# Where the server's own log lines go: the conformance run owns the terminal.
LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "reference", "contract.server")


@dataclass(frozen=True, slots=True)
class EmbeddedReference:
    url: str
    token: str
    params: tuple[str, ...]
    log: Path


@contextmanager
def embedded_reference(timeout: float = START_TIMEOUT) -> Iterator[EmbeddedReference]:
    """Serve the reference on 127.0.0.1 until the block ends; ReferenceDidNotStart if it cannot."""
    token = secrets.token_urlsafe(24)
    step_seconds = None if os.environ.get(STEP_SECONDS_VARIABLE) else EMBEDDED_STEP_SECONDS
    with tempfile.TemporaryDirectory(prefix="contract-conform-") as folder:
        try:
            workflows = demo_workflows(step_seconds)
        except ValueError as exc:
            raise ReferenceDidNotStart(str(exc)) from None
        app = open_app(Path(folder) / "agentos.db", token, workflows)
        log = Path(folder) / "serve.log"
        sock = listen("127.0.0.1", 0)
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="embedded-reference", daemon=True
        )
        with _logs_to(log):
            thread.start()
            try:
                _wait_until_started(server, thread, timeout)
                url = f"http://127.0.0.1:{port}"
                yield EmbeddedReference(url, token, demo_params(url, token), log)
            finally:
                server.should_exit = True
                thread.join(STOP_TIMEOUT)
                sock.close()


def demo_params(url: str, token: str) -> tuple[str, ...]:
    """`--param` values that reach every operation's 2xx, the cancelled run's id included."""
    params = [f"path.workflow_id={DEMO_WORKFLOW}"]
    run = _cancelled_run(url, token)
    if run is not None:
        params += [f"path.run_id={run[0]}", f"query.session_id={run[1]}"]
    return tuple(params)


def _cancelled_run(url: str, token: str) -> tuple[str, str] | None:
    """(run id, session id) of a demo run cancelled at once; None if each attempt finished first."""
    runs = f"{url}/workflows/{DEMO_WORKFLOW}/runs"
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10.0) as client:
        for _ in range(SEED_ATTEMPTS):
            started = client.post(runs, data={"message": "seed", "background": "true"}).json()
            run_id, session_id = str(started["run_id"]), str(started["session_id"])
            if client.post(f"{runs}/{run_id}/cancel").status_code == 200:
                return run_id, session_id
    return None


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise ReferenceDidNotStart("the embedded reference stopped while starting")
        if time.monotonic() > deadline:
            raise ReferenceDidNotStart(f"the embedded reference did not start within {timeout:g} s")
        time.sleep(0.01)


@contextmanager
def _logs_to(path: Path) -> Iterator[None]:
    """Send the server's loggers to `path` for the duration, then put them back as they were."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    saved = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.propagate, logger.level))
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        for logger, propagate, level in saved:
            logger.removeHandler(handler)
            logger.propagate = propagate
            logger.setLevel(level)
        handler.close()
