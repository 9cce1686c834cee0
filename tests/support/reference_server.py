"""`contract serve` as a real process on 127.0.0.1: start, SIGTERM, SIGKILL, restart."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx

from generator.launch import ServerProcess, contract_command, free_port
from generator.spec.config import TOKEN_VARIABLE
from reference.workflows import STEP_SECONDS_VARIABLE
from tests.support.server import REPO, python_path_env

T = TypeVar("T")


# Long enough for a test to see its runs RUNNING when it restarts, kills or cancels them; a test
# about timing sets AGENTOS_DEMO_STEP_SECONDS in `env` itself.
TEST_STEP_SECONDS = "30"


class ReferenceServer:
    """One `contract serve --db DB` process at a time; each start gets a fresh port.

    `db` is a SQLite path or a postgresql:// URL; `workers` > 1 adds `--workers N`.
    """

    def __init__(
        self,
        db: Path | str,
        log: Path,
        *,
        token: str | None = "reference-test-token",
        env: Mapping[str, str] | None = None,
        workers: int = 1,
    ) -> None:
        self.db = db
        self.workers = workers
        self.log = log
        self.token = token
        self.env = {STEP_SECONDS_VARIABLE: TEST_STEP_SECONDS, **(env or {})}
        self.url = ""
        self._server: ServerProcess | None = None

    def command(self, port: int) -> list[str]:
        command = [*contract_command(), "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--db", str(self.db)]
        if self.token is not None:
            command += ["--token", self.token]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        return command

    def start(self) -> str:
        assert self._server is None, "already running"
        port = free_port()
        environment = python_path_env(self.env)
        if TOKEN_VARIABLE not in self.env:
            environment.pop(TOKEN_VARIABLE, None)
        self.url = f"http://127.0.0.1:{port}"
        self._server = ServerProcess(
            self.command(port), url=self.url, log=self.log, env=environment, cwd=REPO
        )
        try:
            self._server.start()
        except Exception:
            self._server = None
            raise
        return self.url

    def stop(self) -> int:
        """SIGTERM: uvicorn's graceful shutdown, the runtime's shutdown hook runs."""
        server, self._server = self._server, None
        return server.stop() if server is not None else 0

    def kill(self) -> int:
        """SIGKILL: the process dies at once, nothing of ours runs."""
        server, self._server = self._server, None
        return server.kill() if server is not None else 0

    def restart(self) -> str:
        self.stop()
        return self.start()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def client(self, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0, **kwargs)

    def __enter__(self) -> ReferenceServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def poll(read: Callable[[], T], done: Callable[[T], bool], *, timeout: float = 15.0) -> T:
    """Read until `done` holds; fail (not hang) after `timeout` seconds, showing the last value."""
    deadline = time.monotonic() + timeout
    value = read()
    while not done(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout} s; last value: {value}")
        time.sleep(0.05)
        value = read()
    return value
