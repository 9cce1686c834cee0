"""Start a real uvicorn process on 127.0.0.1 and wait until it answers: the end-to-end harness."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text(encoding="utf-8", errors="replace")
            raise RuntimeError(f"server exited with {process.returncode}:\n{output}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"server at {url} did not start within {timeout} s")


@contextmanager
def running(
    command: list[str],
    *,
    port: int,
    env: Mapping[str, str] | None = None,
    extra_paths: tuple[Path, ...] = (),
    ready_path: str = "/openapi.json",
    log_path: Path | None = None,
) -> Iterator[str]:
    """Run `command` (which must listen on 127.0.0.1:`port`) and yield its base URL.

    The server's output goes to `log_path` (a file, so a chatty server never blocks on a pipe).
    """
    environment = dict(os.environ)
    environment.update(env or {})
    python_path = [str(p) for p in extra_paths] + [str(REPO)]
    if environment.get("PYTHONPATH"):
        python_path.append(environment["PYTHONPATH"])
    environment["PYTHONPATH"] = os.pathsep.join(python_path)
    with tempfile.TemporaryDirectory(prefix="server-log-") as scratch:
        log = log_path or Path(scratch) / "server.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                command, cwd=REPO, env=environment, stdout=sink, stderr=subprocess.STDOUT
            )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base_url + ready_path, process, log)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def uvicorn_command(factory: str, port: int) -> list[str]:
    """`module:function` is called with no arguments and must return the ASGI app."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


@contextmanager
def uvicorn_server(
    factory: str,
    *,
    env: Mapping[str, str] | None = None,
    extra_paths: tuple[Path, ...] = (),
    log_path: Path | None = None,
) -> Iterator[str]:
    port = free_port()
    command = uvicorn_command(factory, port)
    with running(command, port=port, env=env, extra_paths=extra_paths, log_path=log_path) as url:
        yield url
