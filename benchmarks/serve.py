"""Cancel endpoint throughput and latency: generated app + reference vs a hand-written FastAPI app.

Both peers run the same reference executor on their own SQLite file, each in its own uvicorn
process on 127.0.0.1 (h11, no access log), measured in the same run, in alternating order, by a
raw keep-alive HTTP/1.1 client (benchmarks/loadgen.py) so the client costs little.

Scenarios (every request is checked for its expected status):
  404          POST .../runs/<unknown>/cancel            -> 404 RUN_NOT_FOUND (a store read)
  200 repeat   POST .../runs/<cancelled run>/cancel      -> 200, idempotent (two store reads)
  200 active   POST .../runs/<running demo-parallel>/cancel -> 200 once every step is cleaned up

Then, for `demo-parallel` alone, how long a cancel takes end to end: one run at a time, the
time from sending the cancel to its 200, which the reference sends only after every step's
cleanup has run (checked in the body), plus the server-side span from the committed CANCELLED
status to the last step's finish.

    .venv/bin/python benchmarks/serve.py [--requests 500] [--active 50] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.loadgen import Connection, Reply  # noqa: E402
from generator.launch import ServerProcess, free_port  # noqa: E402
from generator.spec.config import TOKEN_VARIABLE  # noqa: E402

PEERS = {
    "generated": "benchmarks.factories:generated",
    "handwritten": "benchmarks.factories:handwritten",
}
WORKFLOW = "demo-parallel"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0

    def add(self, other: Sample) -> None:
        self.latencies += other.latencies
        self.elapsed += other.elapsed

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


@contextmanager
def server(factory: str, db: Path, token: str) -> Iterator[str]:
    port = free_port()
    env = dict(os.environ, BENCH_DB=str(db), PYTHONPATH=str(REPO))
    env[TOKEN_VARIABLE] = token
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    url = f"http://127.0.0.1:{port}"
    log = db.with_suffix(".log")
    with ServerProcess(command, url=url, log=log, env=env, cwd=REPO):
        yield url


async def load(
    url: str,
    headers: dict[str, str],
    paths: list[str],
    concurrency: int,
    expect: int,
    check: Callable[[Reply], None] | None = None,
) -> Sample:
    """POST every path once, `concurrency` at a time over keep-alive connections."""
    connections = [await Connection.open(url) for _ in range(concurrency)]
    queue = iter(paths)
    sample = Sample()

    async def worker(connection: Connection) -> None:
        for path in queue:
            reply = await connection.request("POST", path, headers=headers)
            if reply.status != expect:
                raise AssertionError(f"{path}: {reply.status} {reply.body[:200]!r}")
            if check is not None:
                check(reply)
            sample.latencies.append(reply.seconds)

    started = time.perf_counter()
    await asyncio.gather(*(worker(connection) for connection in connections))
    sample.elapsed = time.perf_counter() - started
    for connection in connections:
        await connection.close()
    return sample


async def start_runs(url: str, headers: dict[str, str], count: int) -> list[str]:
    connections = [await Connection.open(url) for _ in range(8)]
    body = b"message=benchmark&background=true"
    run_ids: list[str] = []

    async def worker(connection: Connection, share: int) -> None:
        for _ in range(share):
            reply = await connection.request(
                "POST", f"/workflows/{WORKFLOW}/runs", headers=headers, body=body
            )
            assert reply.status == 202, reply.body
            run_ids.append(json.loads(reply.body)["run_id"])

    shares = [count // 8 + (1 if index < count % 8 else 0) for index in range(8)]
    await asyncio.gather(*(worker(c, s) for c, s in zip(connections, shares, strict=True)))
    for connection in connections:
        await connection.close()
    return run_ids


def fully_cancelled(reply: Reply) -> None:
    run = json.loads(reply.body)
    assert run["status"] == "CANCELLED", run
    for step in run["steps"]:
        assert step["status"] == "CANCELLED", run
        assert step["started_at"] is None or step["cleaned_up"], run


async def scenario(
    name: str, url: str, headers: dict[str, str], requests: int, active: int, concurrency: int
) -> Sample:
    cancel = f"/workflows/{WORKFLOW}/runs/{{}}/cancel"
    if name == "404":
        return await load(url, headers, [cancel.format("no-such-run")] * requests, concurrency, 404)
    if name == "200 repeat":
        (run_id,) = await start_runs(url, headers, 1)
        paths = [cancel.format(run_id)] * requests
        return await load(url, headers, paths, concurrency, 200)
    run_ids = await start_runs(url, headers, active)
    await asyncio.sleep(0.5)  # let them all reach RUNNING
    paths = [cancel.format(run_id) for run_id in run_ids]
    return await load(url, headers, paths, concurrency, 200, fully_cancelled)


async def isolated_cancels(
    url: str, headers: dict[str, str], count: int
) -> tuple[Sample, list[float]]:
    """One demo-parallel run at a time: RUNNING with all three steps working, then cancel it."""
    connection = await Connection.open(url)
    sample = Sample()
    spans: list[float] = []
    body = b"message=latency&background=true"
    for _ in range(count):
        reply = await connection.request(
            "POST", f"/workflows/{WORKFLOW}/runs", headers=headers, body=body
        )
        run_id = json.loads(reply.body)["run_id"]
        while True:
            run = json.loads(
                (
                    await connection.request(
                        "GET", f"/workflows/{WORKFLOW}/runs/{run_id}", headers=headers
                    )
                ).body
            )
            if all(step["status"] == "RUNNING" for step in run["steps"][:3]):
                break
            await asyncio.sleep(0.01)
        reply = await connection.request(
            "POST", f"/workflows/{WORKFLOW}/runs/{run_id}/cancel", headers=headers
        )
        assert reply.status == 200
        fully_cancelled(reply)
        sample.latencies.append(reply.seconds)
        run = json.loads(reply.body)
        committed = datetime.fromisoformat(run["updated_at"])
        last = max(datetime.fromisoformat(step["finished_at"]) for step in run["steps"])
        spans.append((last - committed).total_seconds())
    await connection.close()
    return sample, spans


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="per scenario, peer and round")
    parser.add_argument("--active", type=int, default=50, help="runs cancelled per peer and round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--isolated", type=int, default=20, help="one-at-a-time cancels timed")
    args = parser.parse_args()

    token = secrets.token_urlsafe(24)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": FORM}
    scenarios = ("404", "200 repeat", "200 active")
    results = {(peer, name): Sample() for peer in PEERS for name in scenarios}
    ratios: dict[str, list[tuple[str, float]]] = {name: [] for name in scenarios}
    with tempfile.TemporaryDirectory() as folder:
        with server(PEERS["generated"], Path(folder) / "generated.db", token) as generated_url:
            with server(PEERS["handwritten"], Path(folder) / "hand.db", token) as hand_url:
                urls = {"generated": generated_url, "handwritten": hand_url}
                for url in urls.values():  # warm up both
                    asyncio.run(scenario("404", url, headers, 300, 0, args.concurrency))
                    asyncio.run(scenario("200 repeat", url, headers, 300, 0, args.concurrency))
                # Short alternating slices: whatever else the machine is doing hits both peers.
                for name in scenarios:
                    for round_number in range(args.rounds):
                        order = list(PEERS) if round_number % 2 == 0 else list(reversed(PEERS))
                        for peer in order:
                            sample = asyncio.run(
                                scenario(
                                    name,
                                    urls[peer],
                                    headers,
                                    args.requests,
                                    args.active,
                                    args.concurrency,
                                )
                            )
                            results[(peer, name)].add(sample)
                            ratios[name].append((peer, sample.rps))
                isolated, spans = asyncio.run(
                    isolated_cancels(generated_url, headers, args.isolated)
                )

    print(
        f"cancel endpoint, {args.rounds} rounds, concurrency {args.concurrency}, "
        f"{args.requests} requests (404, 200 repeat) / {args.active} runs (200 active) per round"
    )
    print(f"{'scenario':<12} {'peer':<12} {'rps':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name in scenarios:
        for peer in PEERS:
            sample = results[(peer, name)]
            print(
                f"{name:<12} {peer:<12} {sample.rps:8.0f} "
                f"{sample.percentile(0.50):8.2f} {sample.percentile(0.99):8.2f}"
            )
        ours, theirs = results[("generated", name)], results[("handwritten", name)]
        generated = [rps for peer, rps in ratios[name] if peer == "generated"]
        handwritten = [rps for peer, rps in ratios[name] if peer == "handwritten"]
        per_round = statistics.median(g / h for g, h in zip(generated, handwritten, strict=True))
        print(
            f"{name:<12} {'ratio':<12} {ours.rps / theirs.rps:8.2f} "
            f"{theirs.percentile(0.5) / ours.percentile(0.5):8.2f} "
            f"{theirs.percentile(0.99) / ours.percentile(0.99):8.2f}"
            f"   median of per-round rps ratios {per_round:.2f}"
        )
    print(
        "ratio = generated/handwritten for rps, handwritten/generated for latency "
        "(1.00 = no cost; the goal is >= 0.90)"
    )
    print(
        f"demo-parallel cancel, one run at a time ({args.isolated} runs, three steps working): "
        f"request -> 200 with every step cleaned up p50 {isolated.percentile(0.5):.2f} ms, "
        f"max {max(isolated.latencies) * 1000:.2f} ms; CANCELLED committed -> last step "
        f"finished p50 {statistics.median(spans) * 1000:.2f} ms, max {max(spans) * 1000:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
