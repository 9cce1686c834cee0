"""`contract mock` and `contract proxy` as real child processes on 127.0.0.1, for the tests."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from generator.launch import ServerProcess, contract_command, free_port

from .server import REPO, python_path_env

MOCK_TOKEN = "mock-test-token-51c0de"


@contextmanager
def contract_server(
    command: str, *args: str | Path, log: Path | None = None, ready_path: str = "/openapi.json"
) -> Iterator[ServerProcess]:
    """`contract COMMAND ARGS --port P` until the block ends (SIGTERM, as a supervisor stops it)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"contract-{command}-") as scratch:
        server = ServerProcess(
            [*contract_command(), command, *map(str, args), "--port", str(port)],
            url=f"http://127.0.0.1:{port}",
            log=log or Path(scratch) / f"{command}.log",
            env=python_path_env(),
            cwd=REPO,
            ready_path=ready_path,
            start_timeout=120,
        )
        with server:
            yield server


@contextmanager
def mock_server(spec: Path, *extra: str, token: str | None = MOCK_TOKEN) -> Iterator[str]:
    arguments: list[str | Path] = [spec, *extra]
    if token is not None:
        arguments += ["--token", token]
    with contract_server("mock", *arguments) as server:
        yield server.url


def proxy_arguments(
    spec: Path, upstream: str, report: Path, *extra: str, token: str | None
) -> Sequence[str | Path]:
    arguments: list[str | Path] = [spec, "--upstream", upstream, "--report", report, *extra]
    if token is not None:
        arguments += ["--token", token]
    return arguments
