"""Long generations show progress on a terminal and stay quiet in pipes and CI."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

from generator.launch import contract_command
from tests.conftest import REPO, run_contract

SPEC = REPO / "spec" / "agentos.yaml"


def _run_on_a_terminal(out: Path, env: dict[str, str]) -> str:
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*contract_command(), "generate", str(SPEC), "--out", str(out)],
        cwd=REPO,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=120)
    os.close(controller)
    assert process.returncode == 0, output
    return output.decode("utf-8", "replace")


def test_a_terminal_gets_a_progress_bar(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    output = _run_on_a_terminal(tmp_path / "pkg", env)
    assert "generating models" in output and "[" + "#" * 24 + "]" in output
    assert "\x1b[2K" in output  # the line is cleared before the summary
    assert "wrote 8 files" in output


def test_ci_and_pipes_stay_quiet(tmp_path: Path) -> None:
    output = _run_on_a_terminal(tmp_path / "pkg", {**os.environ, "CI": "true"})
    assert "generating models" not in output
    piped = run_contract("generate", SPEC, "--out", tmp_path / "other")
    assert piped.returncode == 0 and piped.stderr == ""
