"""The embedded default: start `contract serve` on a free loopback port, check it, stop it.

The reference runs as its own process (conformance never imports it), with a fresh random token
passed through the environment (not the command line, where `ps` would show it) and a temporary
SQLite database that disappears with the run.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
# Known-good values for the reference's demo data, used unless --param names the same parameter.
REFERENCE_PARAMS = ("path.workflow_id=demo-sequential",)
# The demo's slow steps last 30 s, so a run started without `background` would answer after 90 s
# and be a timeout finding; the contract is the same with short steps. An explicit value wins.
REFERENCE_ENVIRONMENT = {"AGENTOS_DEMO_STEP_SECONDS": "0.5"}


class ReferenceUnavailable(Exception):
    """The reference server could not be started; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Served:
    url: str
    token: str
    log: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_command(port: int, db: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "generator.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--db",
        str(db),
    ]


@contextmanager
def reference_server(timeout: float = START_TIMEOUT) -> Iterator[Served]:
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="contract-conform-") as folder:
        log_path = Path(folder) / "serve.log"
        port = free_port()
        environment = {**REFERENCE_ENVIRONMENT, **os.environ, "CONTRACT_TOKEN": token}
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                serve_command(port, Path(folder) / "agentos.db"),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=environment,
            )
            url = f"http://127.0.0.1:{port}"
            try:
                _wait_until_up(url, process, log_path, token, timeout)
                yield Served(url=url, token=token, log=log_path)
            finally:
                _stop(process)


def _wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, token: str, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            last = _last_line(log).replace(token, "${CONTRACT_TOKEN}")
            detail = f": {last}" if last else ""
            raise ReferenceUnavailable(
                f"the reference server (contract serve) exited with {process.returncode}{detail}"
            )
        try:
            requests.get(url + "/openapi.json", timeout=1.0)
            return
        except requests.RequestException:
            time.sleep(0.05)
    raise ReferenceUnavailable(f"the reference server did not answer within {timeout:.0f} s")


def _last_line(log: Path) -> str:
    try:
        lines = log.read_text("utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
