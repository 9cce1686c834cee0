"""Shared by the benchmark scripts: the peers' virtual environment and measuring one command.

Run as a script (`python _bench.py RESULT.json -- CMD ...`) it is the fresh child that runs CMD
once and records its wall time, exit code and peak memory; `measure()` starts it.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
PEER_VENV = BENCH / ".venv-peers"
PEER_PYTHON = PEER_VENV / "bin" / "python"
# fastapi-code-generator pulls in its own (older) datamodel-code-generator; fastapi and pydantic are
# what its generated main.py imports. Its main.py passes the document's info fields as they are
# (`FastAPI(termsOfService=..., license=...)`); FastAPI dropped `**extra` from `FastAPI()` after
# 0.144.0, so with our pin (0.163.2) every such app fails to build. The peer gets the newest FastAPI
# that accepts its code: we measure the generator, not a FastAPI API change.
PEER_REQUIREMENTS = (
    "fastapi-code-generator==0.8.1",
    "fastapi==0.144.0",
    "pydantic[email]==2.14.3",
)
_STAMP = PEER_VENV / ".requirements"


def ensure_peer_venv() -> Path:
    """Create benchmarks/.venv-peers with the pinned peers on first use; its python."""
    wanted = "\n".join(PEER_REQUIREMENTS) + "\n"
    if _STAMP.is_file() and _STAMP.read_text() == wanted and PEER_PYTHON.exists():
        return PEER_PYTHON
    print(f"setting up {PEER_VENV.relative_to(REPO)} ({', '.join(PEER_REQUIREMENTS)}) ...")
    if not PEER_PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    pip = [str(PEER_PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", *PEER_REQUIREMENTS], check=True)
    _STAMP.write_text(wanted)
    return PEER_PYTHON


_COMMITS: dict[str, str] = {}


def resolve(rev: str) -> str:
    """The commit `rev` names when first asked (HEAD may move while a benchmark runs)."""
    if rev not in _COMMITS:
        _COMMITS[rev] = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--verify", f"{rev}^{{commit}}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    return _COMMITS[rev]


def snapshot(rev: str, into: Path) -> Path:
    """generator/ and tests/ as committed at `rev`, unpacked into `into` (to put first on
    PYTHONPATH): a fixed version to measure while others edit the working tree."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", resolve(rev), "generator", "tests"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def describe_source(rev: str | None) -> str:
    """Which of our code is measured: a commit, or the working tree and how it differs."""
    git = ["git", "-C", str(REPO)]
    if rev is not None:
        return f"ours from commit {resolve(rev)[:10]} ({rev})"
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "generator"], capture_output=True, text=True
    )
    changed = len(dirty.stdout.splitlines())
    return (
        f"ours from the working tree (HEAD {head.stdout.strip()}, {changed} changed in generator/)"
    )


@dataclass(frozen=True, slots=True)
class Measurement:
    returncode: int
    wall: float  # seconds, around the command only (not this wrapper's start)
    cpu: float  # user + system seconds of the whole tree: less sensitive to other load than wall
    max_rss_mb: float  # the largest single process of the tree (getrusage RUSAGE_CHILDREN)
    tree_pss_mb: float  # sampled peak of the whole tree's proportional set size, summed
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def measure(
    cmd: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 1800,
) -> Measurement:
    """Run `cmd` once in a fresh child process and measure it."""
    result = RESULTS / f".measure-{os.getpid()}.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    wrapper = [sys.executable, str(Path(__file__).resolve()), str(result), "--", *cmd]
    subprocess.run(wrapper, cwd=cwd, env=env, timeout=timeout, check=True)
    data = json.loads(result.read_text())
    result.unlink()
    return Measurement(**data)


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, ppid in parents.items() if ppid in frontier]
        tree += frontier
    return tree


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _run_and_record(result: Path, cmd: list[str]) -> None:
    peak = 0
    done = threading.Event()
    started = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, sum(_pss_kb(pid) for pid in _descendants(child.pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = child.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    record = {
        "returncode": child.returncode,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "max_rss_mb": usage.ru_maxrss / 1024,
        "tree_pss_mb": peak / 1024,
        "stdout": stdout[-4000:],
        "stderr": stderr[-4000:],
    }
    result.write_text(json.dumps(record))


if __name__ == "__main__":
    separator = sys.argv.index("--")
    _run_and_record(Path(sys.argv[1]), sys.argv[separator + 1 :])
