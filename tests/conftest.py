from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CONTRACT = [sys.executable, "-m", "generator.cli"]


def run_contract(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a child process, as a user or CI script would."""
    return subprocess.run(
        [*CONTRACT, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def contract() -> type[object]:
    return type("Contract", (), {"run": staticmethod(run_contract)})
