"""`contract serve` as a real process on 127.0.0.1: start, SIGTERM, SIGKILL, restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx

from tests.support.server import REPO, free_port, wait_until_up

T = TypeVar("T")


class ReferenceServer:
    """One `contract serve --db DB` process at a time; each start gets a fresh port."""

    def __init__(
        self,
        db: Path,
        log: Path,
        *,
        token: str | None = "reference-test-token",
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.db = db
        self.log = log
        self.token = token
        self.env = dict(env or {})
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None

    def command(self, port: int) -> list[str]:
        command = [sys.executable, "-m", "generator.cli", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--db", str(self.db)]
        if self.token is not None:
            command += ["--token", self.token]
        return command

    def start(self) -> str:
        assert self.process is None, "already running"
        port = free_port()
        environment = dict(os.environ)
        environment.pop("CONTRACT_TOKEN", None)
        environment.update(self.env)
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(REPO), *filter(None, [environment.get("PYTHONPATH")])]
        )
        self._log_handle = self.log.open("ab")
        self.process = subprocess.Popen(
            self.command(port),
            cwd=REPO,
            env=environment,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(self.url + "/openapi.json", self.process, self.log)
        except Exception:
            self.kill()
            raise
        return self.url

    def stop(self) -> int:
        """SIGTERM: uvicorn's graceful shutdown, the runtime's shutdown hook runs."""
        return self._end(signal.SIGTERM)

    def kill(self) -> int:
        """SIGKILL: the process dies at once, nothing of ours runs."""
        return self._end(signal.SIGKILL)

    def _end(self, how: signal.Signals) -> int:
        process = self.process
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(how)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        self.process = None
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None
        return code

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
