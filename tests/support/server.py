"""Real uvicorn processes on 127.0.0.1 for the end-to-end tests, on `generator.launch`."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from generator.launch import ServerProcess, free_port

REPO = Path(__file__).resolve().parents[2]

__all__ = ["REPO", "free_port", "python_path_env", "uvicorn_server"]


def python_path_env(
    env: Mapping[str, str] | None = None, extra_paths: tuple[Path, ...] = ()
) -> dict[str, str]:
    """This process's environment plus `env`, with `extra_paths` and the repository importable."""
    environment = dict(os.environ)
    environment.update(env or {})
    python_path = [str(p) for p in extra_paths] + [str(REPO)]
    if environment.get("PYTHONPATH"):
        python_path.append(environment["PYTHONPATH"])
    environment["PYTHONPATH"] = os.pathsep.join(python_path)
    return environment


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
    """Serve `factory` on a free loopback port; yield its base URL, stop it afterwards."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="server-log-") as scratch:
        server = ServerProcess(
            uvicorn_command(factory, port),
            url=f"http://127.0.0.1:{port}",
            log=log_path or Path(scratch) / "server.log",
            env=python_path_env(env, extra_paths),
            cwd=REPO,
        )
        with server:
            yield server.url
