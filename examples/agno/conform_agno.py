"""Check Agno's own AgentOS server against our contracts: `make conform-agno`.

    python examples/agno/conform_agno.py [--reports reports/agno] [--seed N] [--max-examples N]

Run with the project's Python. It

1. builds (once, then reuses) a virtual environment for agno in `examples/agno/.venv`, with
   `agno[os]` pinned to AGNO_REQUIREMENT and uvicorn;
2. starts the offline AgentOS of `app.py` on a free 127.0.0.1 port with `OS_SECURITY_KEY` set,
   and runs `contract conform` against it with the seed contract and with `spec/agentos.yaml`
   (whose links drive the stateful start -> cancel -> read flow);
3. does the same against a second instance started without a key (an open server).

Each run writes `junit.xml`, `report.md`, `report.json` and `report.html` into
`REPORTS/<run>/`; `runs.json` lists the runs. `make_doc.py` turns them into
`docs/third-party/agno.md`. The token travels in the environment only (CONTRACT_TOKEN,
OS_SECURITY_KEY), never on a command line.

Exit 0 when every run completed (conformant or not), 2 when a run could not be completed.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from generator.launch import ServerDidNotStart, ServerProcess, contract_command, free_port
from generator.spec.config import TOKEN_VARIABLE

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
AGNO_VERSION = "3.1.10"
AGNO_REQUIREMENT = f"agno[os]=={AGNO_VERSION}"
REQUIREMENTS = (AGNO_REQUIREMENT, "uvicorn")
VENV = HERE / ".venv"
WORKFLOW_ID = "offline-pipeline"  # app.WORKFLOW_ID, without importing agno here
SEED_CONTRACT = REPO.parent / "shared" / "contracts" / "agentos-cancel-workflow-run.yaml"
GROWN_CONTRACT = REPO / "spec" / "agentos.yaml"
DEFAULT_SEED = 20261124
DEFAULT_MAX_EXAMPLES = 10
# Long enough for a cancel to land while the run is in its slow step, short enough for CI.
DEFAULT_SLOW_SECONDS = 1.0
START_TIMEOUT = 60.0


class HarnessError(RuntimeError):
    """The harness itself could not do its job (install, start, run)."""


@dataclass(frozen=True)
class Run:
    name: str
    contract: str
    keyed: bool
    exit_code: int
    report: str


def run_statuses(db_dir: Path) -> dict[str, int]:
    """How many runs of the workflow the server stored, by final status (CANCELLED, ...).

    Read straight from Agno's SQLite file after the server stopped: a CANCELLED run is one the
    stateful phase cancelled while it was in its slow step (start -> cancel via the links).
    """
    path = db_dir / "agentos.db"
    if not path.exists():
        return {}
    try:
        with contextlib.closing(sqlite3.connect(path)) as db:
            rows = db.execute(
                "SELECT status, COUNT(*) FROM agno_runs WHERE workflow_id = ? GROUP BY status",
                (WORKFLOW_ID,),
            ).fetchall()
    except sqlite3.Error:
        return {}
    return {str(status): int(count) for status, count in sorted(rows)}


def ensure_venv(venv: Path = VENV, log: Path | None = None) -> Path:
    """The agno environment's Python, built on first use; a stamp names what is installed.

    A lock makes concurrent callers (two test sessions, make and a test) wait for one build.
    """
    python = venv / "bin" / "python"
    stamp = venv / ".agno-stamp"
    wanted = " ".join(REQUIREMENTS) + "\n"
    venv.parent.mkdir(parents=True, exist_ok=True)
    lock_path = venv.parent / f"{venv.name}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and stamp.exists() and stamp.read_text() == wanted:
            return python
        shutil.rmtree(venv, ignore_errors=True)
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            + list(REQUIREMENTS),
            [str(python), "-c", "import agno.os, jwt, uvicorn"],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=900)  # noqa: S603
            if log is not None:
                with log.open("a", encoding="utf-8") as out:
                    out.write(f"$ {' '.join(step)}\n{done.stdout}{done.stderr}")
            if done.returncode != 0:
                tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
                raise HarnessError(f"building {venv} failed at `{' '.join(step[2:4])}`:\n{tail}")
        stamp.write_text(wanted)
    return python


@contextlib.contextmanager
def agno_server(
    python: Path,
    *,
    key: str | None,
    log: Path,
    slow_seconds: float = DEFAULT_SLOW_SECONDS,
    db_dir: Path | None = None,
) -> Iterator[str]:
    """Serve `app.py` on a free loopback port, with `OS_SECURITY_KEY=key` when a key is given."""
    port = free_port()
    environment = {
        k: v for k, v in os.environ.items() if k not in ("OS_SECURITY_KEY", TOKEN_VARIABLE)
    }
    environment.update({"AGNO_TELEMETRY": "false", "AGNO_SLOW_SECONDS": f"{slow_seconds:g}"})
    if key is not None:
        environment["OS_SECURITY_KEY"] = key
    command = [str(python), str(HERE / "serve.py"), "--port", str(port)]
    if db_dir is not None:
        command += ["--db-dir", str(db_dir)]
    log.unlink(missing_ok=True)
    server = ServerProcess(
        command,
        url=f"http://127.0.0.1:{port}",
        log=log,
        env=environment,
        cwd=HERE,
        ready_path="/health",
        start_timeout=START_TIMEOUT,
    )
    try:
        server.start()
    except ServerDidNotStart as exc:
        raise HarnessError(f"agno did not start: {exc}") from None
    try:
        yield server.url
    finally:
        server.stop()


def conform(
    contract: Path,
    url: str,
    *,
    token: str | None,
    report: Path,
    seed: int,
    max_examples: int,
    extra_env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """`contract conform` with the pinned workflow id; the token goes in CONTRACT_TOKEN."""
    environment = {k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE}
    environment.update(extra_env or {})
    if token is not None:
        environment[TOKEN_VARIABLE] = token
    command = [
        *contract_command(),
        "conform",
        os.path.relpath(contract, REPO),
        "--url",
        url,
        "--param",
        f"path.workflow_id={WORKFLOW_ID}",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--report",
        str(report),
        *extra_args,
    ]
    if token is None:  # the open server: nothing to authenticate with, and that is the point
        command.append("--allow-unauthenticated")
    return subprocess.run(  # noqa: S603
        command, env=environment, cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


CONTRACTS = (("seed", SEED_CONTRACT), ("agentos", GROWN_CONTRACT))


def check_server(
    url: str,
    key: str | None,
    mode: str,
    reports: Path,
    seed: int,
    max_examples: int,
    echo: bool,
) -> list[Run]:
    """Both contracts against one running Agno; each run's reports in REPORTS/<contract>-<mode>."""
    runs: list[Run] = []
    keyed = key is not None
    for label, contract in CONTRACTS:
        name = f"{label}-{mode}"
        folder = reports / name
        shutil.rmtree(folder, ignore_errors=True)
        done = conform(
            contract, url, token=key, report=folder, seed=seed, max_examples=max_examples
        )
        if echo:
            print(f"== {name}: {os.path.relpath(contract, REPO)} against {mode} agno")
            print(done.stdout.rstrip())
            if done.stderr.strip():
                print(done.stderr.rstrip(), file=sys.stderr)
        if done.returncode not in (0, 1) or not (folder / "report.json").exists():
            raise HarnessError(
                f"{name}: contract conform exited {done.returncode}: {done.stderr.strip()[-500:]}"
            )
        contract_name = os.path.relpath(contract, REPO)
        runs.append(Run(name, contract_name, keyed, done.returncode, name))
    return runs


def run_all(
    reports: Path,
    *,
    seed: int = DEFAULT_SEED,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    slow_seconds: float = DEFAULT_SLOW_SECONDS,
    echo: bool = True,
) -> list[Run]:
    """Both contracts against a keyed and an open Agno; returns the runs, writes runs.json."""
    reports.mkdir(parents=True, exist_ok=True)
    python = ensure_venv(log=reports / "install.log")
    runs: list[Run] = []
    stored: dict[str, dict[str, int]] = {}
    for keyed in (True, False):
        key = secrets.token_urlsafe(24) if keyed else None
        mode = "keyed" if keyed else "open"
        log = reports / f"agno-{mode}.log"
        with tempfile.TemporaryDirectory(prefix="agno-db-") as scratch:
            db_dir = Path(scratch)
            with agno_server(
                python, key=key, log=log, slow_seconds=slow_seconds, db_dir=db_dir
            ) as url:
                runs += check_server(url, key, mode, reports, seed, max_examples, echo)
            stored[mode] = run_statuses(db_dir)  # the server has stopped: read what it stored
    meta = {
        "agno": AGNO_REQUIREMENT,
        "workflow_id": WORKFLOW_ID,
        "seed": seed,
        "max_examples": max_examples,
        "slow_seconds": slow_seconds,
        "runs": [asdict(r) for r in runs],
        "stored_runs": stored,
    }
    (reports / "runs.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=REPO / "reports" / "agno")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES)
    parser.add_argument("--slow-seconds", type=float, default=DEFAULT_SLOW_SECONDS)
    args = parser.parse_args(argv)
    try:
        runs = run_all(
            args.reports,
            seed=args.seed,
            max_examples=args.max_examples,
            slow_seconds=args.slow_seconds,
        )
    except HarnessError as exc:
        print(f"conform-agno: {exc}", file=sys.stderr)
        return 2
    for run in runs:
        verdict = "conformant" if run.exit_code == 0 else "NOT conformant"
        print(f"{run.name:<16} {verdict}  ({args.reports / run.report / 'report.md'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
