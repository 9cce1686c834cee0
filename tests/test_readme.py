"""The README's implementation sample works as pasted, and its serve-and-check commands pass."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from generator.launch import ServerProcess, contract_command, free_port
from tests.conftest import REPO
from tests.support.server import python_path_env

README = (REPO / "README.md").read_text(encoding="utf-8")


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)


def sample() -> str:
    (block,) = [b for b in code_blocks("python") if "class MyAgentOS(AgentosApi)" in b]
    return block


def serve_and_check_commands() -> tuple[list[str], list[str]]:
    (block,) = [b for b in code_blocks("sh") if "uvicorn my_agentos:app" in b]
    serve, check = (shlex.split(line) for line in block.strip().splitlines())
    return serve, check


def test_the_sample_implements_every_operation(tmp_path: Path) -> None:
    (tmp_path / "my_agentos.py").write_text(sample(), encoding="utf-8")
    code = "import my_agentos; print(type(my_agentos.app).__name__)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=python_path_env(extra_paths=(tmp_path,)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "FastAPI"


@pytest.mark.slow
def test_the_documented_commands_serve_the_sample_and_find_it_conformant(tmp_path: Path) -> None:
    (tmp_path / "my_agentos.py").write_text(sample(), encoding="utf-8")
    serve, check = serve_and_check_commands()
    assert serve[0] == "uvicorn" and check[:2] == ["contract", "conform"]
    port = str(free_port())
    serve = [sys.executable, "-m", *serve[:-1], port]  # --port 8000 -> a free port
    url = f"http://127.0.0.1:{port}"
    check = [*contract_command(), *check[1:]]
    check[check.index("--url") + 1] = url
    with ServerProcess(
        serve,
        url=url,
        log=tmp_path / "uvicorn.log",
        env=python_path_env(extra_paths=(tmp_path,)),
        cwd=tmp_path,
    ):
        token = check[check.index("--token") + 1]
        headers = {"Authorization": f"Bearer {token}"}
        started = httpx.post(
            f"{url}/workflows/echo/runs",
            data={"message": "hi", "background": "true"},
            headers=headers,
        )
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        read = httpx.get(f"{url}/workflows/echo/runs/{run_id}", headers=headers)
        assert read.json()["content"] == "hi"
        cancel = httpx.post(f"{url}/workflows/echo/runs/{run_id}/cancel", headers=headers)
        assert (cancel.status_code, cancel.json()["error_code"]) == (400, "RUN_NOT_ACTIVE")
        done = subprocess.run(
            [*check, "--max-examples", "10", "--seed", "1"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CONFORMANT: 0 findings" in done.stdout
