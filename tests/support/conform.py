"""Run `contract conform` as a user would, against the servers in tests/broken/, on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.launch import contract_command
from generator.spec.config import TOKEN_VARIABLE
from tests.broken.base import TOKEN_VARIABLE as BROKEN_SERVER_TOKEN_VARIABLE

from .server import REPO, uvicorn_server

TOKEN = "conformance-test-token-7f3a9c1e"
CONTRACT = REPO / "tests" / "broken" / "contract.yaml"
PINS = ("--param", "path.workflow_id=demo", "--param", "path.run_id=run-1")
# Small on purpose: every broken server is caught within a few cases per operation.
MAX_EXAMPLES = 8


@contextmanager
def broken_server(name: str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    with uvicorn_server(
        f"tests.broken.{name}:create", env={BROKEN_SERVER_TOKEN_VARIABLE: TOKEN, **(env or {})}
    ) as url:
        yield url


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    folder: Path | None

    def report(self) -> dict[str, Any]:
        assert self.folder is not None
        data: dict[str, Any] = json.loads((self.folder / "report.json").read_text("utf-8"))
        return data

    def text(self, name: str) -> str:
        assert self.folder is not None
        return (self.folder / name).read_text("utf-8")

    def checks(self) -> set[str]:
        return {finding["check"] for finding in self.report()["findings"]}


def run_conform(
    *args: str | Path, timeout: float = 300, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE}
    environment.update(env or {})
    return subprocess.run(
        [*contract_command(), "conform", *map(str, args)],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def conform(
    url: str,
    *extra: str,
    report: Path | None = None,
    token: str | None = TOKEN,
    seed: int = 1,
    max_examples: int = MAX_EXAMPLES,
    spec: Path = CONTRACT,
    pins: tuple[str, ...] = PINS,
) -> Outcome:
    args: list[str | Path] = [spec, "--url", url, *pins]
    if token is not None:
        args += ["--token", token]
    args += ["--max-examples", str(max_examples), "--seed", str(seed), *extra]
    if report is not None:
        args += ["--report", report]
    done = run_conform(*args)
    return Outcome(done.returncode, done.stdout, done.stderr, report)
