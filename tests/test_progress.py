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


def _terminal_env(**changes: str) -> dict[str, str]:
    quiet_makers = ("CI", "NO_COLOR", "TERM")
    env = {k: v for k, v in os.environ.items() if k not in quiet_makers}
    return {**env, "TERM": "xterm-256color", **changes}


def test_a_terminal_gets_a_progress_bar(tmp_path: Path) -> None:
    output = _run_on_a_terminal(tmp_path / "pkg", _terminal_env())
    assert "generating models" in output
    assert "5/5" in output and "━" in output  # rich's bar, full at the last stage
    assert "\x1b[2K" in output  # the line is cleared before the summary
    assert "\x1b[3" in output  # coloured
    assert "wrote 8 files" in output


def test_no_color_keeps_the_bar_and_drops_the_colour(tmp_path: Path) -> None:
    output = _run_on_a_terminal(tmp_path / "pkg", _terminal_env(NO_COLOR="1"))
    assert "generating models" in output and "5/5" in output
    assert "\x1b[3" not in output and "\x1b[9" not in output


def test_ci_dumb_terminals_and_pipes_stay_quiet(tmp_path: Path) -> None:
    for number, env in enumerate((_terminal_env(CI="true"), _terminal_env(TERM="dumb"))):
        output = _run_on_a_terminal(tmp_path / f"pkg{number}", env)
        assert "generating models" not in output and "\x1b[" not in output
        assert "wrote 8 files" in output
    piped = run_contract("generate", SPEC, "--out", tmp_path / "other")
    assert piped.returncode == 0 and piped.stderr == ""
