"""Start a server as a child process, wait until it answers, stop it: the one harness for that.

The end-to-end tests, the benchmarks and the Agno example all start real servers on 127.0.0.1
(`contract serve`, uvicorn factories, Agno's AgentOS); they share this module so that a port is
picked, a log is kept, readiness is polled and a hung child is killed in one way. It imports
nothing else of ours. `contract conform` does not use it: the CLI serves its embedded reference
in-process (see `reference.embedded`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import httpx

CONTRACT_MODULE = "generator.cli"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
LOG_TAIL_CHARS = 2000


def contract_command() -> list[str]:
    """`contract` as this interpreter runs it: independent of PATH and of an installed script."""
    return [sys.executable, "-m", CONTRACT_MODULE]


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerDidNotStart(RuntimeError):
    """The child exited or did not answer in time; the message ends with the tail of its log."""


class ServerProcess:
    """One child process serving HTTP at `url`; its output goes to `log` (appended, never a pipe).

    A file instead of a pipe, so that a chatty server never blocks on a full buffer and the log
    outlives the process for the test or user who needs to read it.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        url: str,
        log: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        ready_path: str = "/openapi.json",
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        self.command = list(command)
        self.url = url
        self.log = log
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.ready_path = ready_path
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._sink: IO[bytes] | None = None

    def start(self) -> str:
        """Spawn the command and return `url` once any HTTP answer comes back from `ready_path`."""
        if self.process is not None:
            raise RuntimeError("the server is already running")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._sink = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - commands are ours, never a shell
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._sink,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_up(self.process)
        except BaseException:
            self.kill()
            raise
        return self.url

    def _wait_until_up(self, process: subprocess.Popen[bytes]) -> None:
        ready = self.url + self.ready_path
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServerDidNotStart(
                    f"{self.command[0]} exited with {process.returncode}:\n{self.log_tail()}"
                )
            try:
                httpx.get(ready, timeout=1.0)  # any answer, even a 401, means it is up
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise ServerDidNotStart(
            f"{ready} did not answer within {self.start_timeout:g} s:\n{self.log_tail()}"
        )

    def stop(self) -> int:
        """SIGTERM (a graceful shutdown), SIGKILL if it has not exited after STOP_TIMEOUT."""
        return self._end(signal.SIGTERM)

    def kill(self) -> int:
        """SIGKILL: the process dies at once, none of its shutdown code runs."""
        return self._end(signal.SIGKILL)

    def _end(self, how: signal.Signals) -> int:
        process, self.process = self.process, None
        code = 0
        if process is not None:
            if process.poll() is None:
                process.send_signal(how)
            try:
                code = process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
        if self._sink is not None:
            self._sink.close()
            self._sink = None
        return code

    def log_text(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self) -> str:
        return self.log_text()[-LOG_TAIL_CHARS:]

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
