"""Scaling the reference out: runs started and cancelled per second, and cross-instance cancels.

Measured in one run, on this machine, against real servers on 127.0.0.1:

1. Throughput: `contract serve --workers N` for N = 1, 2, 4, on SQLite and on PostgreSQL (a
   cluster this script starts with initdb + pg_ctl, tests/support/postgres.py). `--runs` runs of
   demo-parallel (steps long enough never to finish by themselves), each started (202) and then
   cancelled (200, body checked: CANCELLED, every step stopped) by `--concurrency` client loops;
   starts and cancels go over separate connections, so a cancel often lands on another worker.
   The peer is the 1-worker SQLite figure: every row prints its ratio to it.
2. Latency: two instances A and B on one PostgreSQL. A run is started on A and, once its three
   research steps run, cancelled; "cancel to last step stopped" is the time from sending the
   cancel to the latest `finished_at` of its steps (same clock: both ends on this host), and
   "cancel to 200" the client's round trip. Cancelled on B (across instances: the intent goes by
   LISTEN/NOTIFY) versus on A itself (the peer: no intent to deliver). Goal: p99 < 250 ms.

The machine is shared (2 cores): more workers than cores cannot go faster here.

    .venv/bin/python benchmarks/scale.py [--runs 200] [--concurrency 20] [--rounds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.loadgen import Connection, Reply  # noqa: E402
from generator.launch import ServerProcess, contract_command, free_port  # noqa: E402
from tests.support.postgres import PostgresServer, postgres_server  # noqa: E402
from tests.support.server import python_path_env  # noqa: E402

WORKFLOW = "demo-parallel"
FORM = "application/x-www-form-urlencoded"
RESEARCH = ("research-web", "research-papers", "research-code")
STEP_SECONDS = "60"  # runs never finish by themselves: every one is cancelled
WORKER_COUNTS = (1, 2, 4)


@dataclass(frozen=True, slots=True)
class Throughput:
    database: str
    workers: int
    runs: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.runs / self.seconds


@contextmanager
def served(db: str, token: str, folder: Path, name: str, workers: int = 1) -> Iterator[str]:
    port = free_port()
    command = [*contract_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--db", db, f"--token={token}", "--workers", str(workers)]  # may start with -
    env = python_path_env({"AGENTOS_DEMO_STEP_SECONDS": STEP_SECONDS})
    url = f"http://127.0.0.1:{port}"
    process = ServerProcess(command, url=url, log=folder / f"{name}.log", env=env, cwd=REPO)
    process.start()
    try:
        yield url
    finally:
        process.stop()


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": FORM}


def check_cancelled(body: bytes) -> dict[str, Any]:
    run: dict[str, Any] = json.loads(body)
    assert run["status"] == "CANCELLED", run
    assert all(step["status"] == "CANCELLED" for step in run["steps"]), run
    return run


class Reopening:
    """A keep-alive connection that reconnects when the server closed it while idle.

    uvicorn closes a connection idle for 5 s; a starter connection idles while its cancel waits
    (seconds, on a loaded machine). A request the server never read (0 bytes back) is resent.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.connection: Connection | None = None

    async def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        for attempt in range(2):
            if self.connection is None:
                self.connection = await Connection.open(self.url)
            try:
                return await self.connection.request(method, path, **kwargs)
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                await self.close()
                partial = isinstance(exc, asyncio.IncompleteReadError) and exc.partial
                if attempt or partial:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
            self.connection = None


async def start_and_cancel(url: str, token: str, runs: int, concurrency: int) -> float:
    sent = headers(token)
    shares = [
        runs // concurrency + (1 if i < runs % concurrency else 0) for i in range(concurrency)
    ]

    async def loop(share: int) -> None:
        starter = Reopening(url)
        canceller = Reopening(url)
        try:
            for _ in range(share):
                reply = await starter.request(
                    "POST", f"/workflows/{WORKFLOW}/runs", headers=sent,
                    body=b"message=scale&background=true",
                )  # fmt: skip
                assert reply.status == 202, reply
                run_id = json.loads(reply.body)["run_id"]
                reply = await canceller.request(
                    "POST", f"/workflows/{WORKFLOW}/runs/{run_id}/cancel", headers=sent
                )
                assert reply.status == 200, reply
                check_cancelled(reply.body)
        finally:
            await starter.close()
            await canceller.close()

    began = time.perf_counter()
    await asyncio.gather(*(loop(share) for share in shares if share))
    return time.perf_counter() - began


async def cancel_latency(start_url: str, cancel_url: str, token: str, rounds: int) -> list[float]:
    """Seconds from sending each cancel to its run's last step stopping (two spans per round)."""
    sent = headers(token)
    starter = await Connection.open(start_url)
    canceller = await Connection.open(cancel_url)
    stopped: list[float] = []
    try:
        for _ in range(rounds):
            reply = await starter.request(
                "POST", f"/workflows/{WORKFLOW}/runs", headers=sent,
                body=b"message=latency&background=true",
            )  # fmt: skip
            run_id = json.loads(reply.body)["run_id"]
            while True:  # until all three research steps run
                reply = await starter.request(
                    "GET", f"/workflows/{WORKFLOW}/runs/{run_id}", headers=sent
                )
                steps = {step["name"]: step for step in json.loads(reply.body)["steps"]}
                if all(steps[name]["status"] == "RUNNING" for name in RESEARCH):
                    break
                await asyncio.sleep(0.02)
            sent_at = time.time()
            reply = await canceller.request(
                "POST", f"/workflows/{WORKFLOW}/runs/{run_id}/cancel", headers=sent
            )
            assert reply.status == 200, reply
            run = check_cancelled(reply.body)
            last = max(
                datetime.fromisoformat(step["finished_at"]).timestamp() for step in run["steps"]
            )
            stopped.append(last - sent_at)
    finally:
        await starter.close()
        await canceller.close()
    return stopped


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure_throughput(
    database: str, db: str, workers: int, folder: Path, args: argparse.Namespace
) -> Throughput:
    token = secrets.token_urlsafe(16)
    with served(db, token, folder, f"{database}-{workers}", workers) as url:
        asyncio.run(start_and_cancel(url, token, min(20, args.runs), args.concurrency))  # warm-up
        seconds = asyncio.run(start_and_cancel(url, token, args.runs, args.concurrency))
    return Throughput(database, workers, args.runs, seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=200, help="runs started and cancelled per row (default 200)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=20, help="client loops sending them (default 20)"
    )
    parser.add_argument(
        "--rounds", type=int, default=60, help="cross-instance cancels timed (default 60)"
    )
    args = parser.parse_args()
    results: list[Throughput] = []
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scale-bench-")))
        postgres: PostgresServer = stack.enter_context(postgres_server())
        for workers in WORKER_COUNTS:
            sqlite = str(folder / f"sqlite-{workers}.db")
            results.append(measure_throughput("SQLite", sqlite, workers, folder, args))
            pg = postgres.create_database()
            results.append(measure_throughput("PostgreSQL", pg, workers, folder, args))
        token = secrets.token_urlsafe(16)
        shared = postgres.create_database()
        with (
            served(shared, token, folder, "instance-a") as a,
            served(shared, token, folder, "instance-b") as b,
        ):
            asyncio.run(cancel_latency(a, b, token, 5))  # warm-up
            across = asyncio.run(cancel_latency(a, b, token, args.rounds))
            same = asyncio.run(cancel_latency(a, a, token, args.rounds))
    baseline = next(r for r in results if r.database == "SQLite" and r.workers == 1)
    print(f"runs started + cancelled per second ({args.runs} runs, {args.concurrency} loops)")
    print("peer: the 1-worker SQLite figure; ratio = this row / that one")
    print(f"{'database':<11} {'workers':>7} {'runs/s':>8} {'ratio':>6}")
    for result in sorted(results, key=lambda r: (r.database != "SQLite", r.workers)):
        ratio = result.per_second / baseline.per_second
        print(f"{result.database:<11} {result.workers:>7} {result.per_second:>8.1f} {ratio:>6.2f}")
    print()
    print(f"cancel to last step stopped, {args.rounds} runs, two instances on one PostgreSQL")
    print("peer: the same cancel sent to the instance that runs it (no intent to deliver)")
    print(f"{'cancelled on':<22} {'p50 ms':>7} {'p99 ms':>7}")
    for label, values in (("B (across instances)", across), ("A (same instance)", same)):
        p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
        print(f"{label:<22} {p50:>7.1f} {p99:>7.1f}")
    ratio = statistics.median(across) / statistics.median(same)
    verdict = "met" if percentile(across, 0.99) < 0.25 else "NOT met"
    print(f"ratio of p50s, across / same: {ratio:.2f}; goal p99 < 250 ms across: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
