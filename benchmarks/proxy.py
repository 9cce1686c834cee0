"""`contract proxy` overhead: requests per second through the proxy vs to the upstream directly.

The upstream is the generated app with the reference implementation (as `contract serve` runs
it) in its own uvicorn process; `contract proxy spec/agentos.yaml --upstream <it>` runs in
another. Both are measured in the same run, in alternating rounds, by the raw keep-alive HTTP/1.1
client of benchmarks/loadgen.py, with the same requests: `GET /workflows` (200, a list) and
`POST .../runs/<unknown>/cancel` (404, an error body), every status checked. The proxy checks
every exchange (its checker queue is bounded, so a proxy that checks slower than it forwards
slows down instead of falling behind); after the last round the proxy is stopped and its report
must count every request sent through it, with no finding.

    .venv/bin/python benchmarks/proxy.py [--requests 2000] [--concurrency 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.loadgen import Connection  # noqa: E402
from generator.launch import ServerProcess, contract_command, free_port  # noqa: E402
from generator.spec.config import TOKEN_VARIABLE  # noqa: E402

SPEC = REPO / "spec" / "agentos.yaml"
GOAL = 0.8
REQUESTS = [
    ("GET", "/workflows", 200),
    ("POST", "/workflows/demo/runs/no-such-run/cancel", 404),
]


async def load(url: str, token: str, count: int, concurrency: int) -> float:
    """Send `count` requests, `concurrency` at a time; requests per second."""
    connections = [await Connection.open(url) for _ in range(concurrency)]
    headers = {"Authorization": f"Bearer {token}"}
    jobs = iter(range(count))

    async def worker(connection: Connection) -> None:
        for number in jobs:
            method, path, expect = REQUESTS[number % len(REQUESTS)]
            reply = await connection.request(method, path, headers=headers)
            if reply.status != expect:
                raise AssertionError(f"{method} {path}: {reply.status} {reply.body[:200]!r}")

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    elapsed = time.perf_counter() - started
    for connection in connections:
        await connection.close()
    return count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per round and peer")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="bench-proxy-") as scratch:
        folder = Path(scratch)
        upstream_port, proxy_port = free_port(), free_port()
        env = dict(os.environ, BENCH_DB=str(folder / "runs.db"), PYTHONPATH=str(REPO))
        env[TOKEN_VARIABLE] = token
        upstream = ServerProcess(
            [sys.executable, "-m", "uvicorn", "--factory", "benchmarks.factories:generated"]
            + ["--host", "127.0.0.1", "--port", str(upstream_port)]
            + ["--log-level", "warning", "--no-access-log"],
            url=f"http://127.0.0.1:{upstream_port}",
            log=folder / "upstream.log",
            env=env,
            cwd=REPO,
        )
        proxy = ServerProcess(
            [*contract_command(), "proxy", str(SPEC), "--upstream", upstream.url]
            + ["--port", str(proxy_port), "--token", token, "--report", str(folder / "report")],
            url=f"http://127.0.0.1:{proxy_port}",
            log=folder / "proxy.log",
            env=env,
            cwd=REPO,
            start_timeout=60,
        )
        direct: list[float] = []
        proxied: list[float] = []
        with upstream:
            proxy.start()
            try:
                asyncio.run(load(upstream.url, token, 200, args.concurrency))  # warm-up
                asyncio.run(load(proxy.url, token, 200, args.concurrency))
                for _ in range(args.rounds):
                    direct.append(
                        asyncio.run(load(upstream.url, token, args.requests, args.concurrency))
                    )
                    proxied.append(
                        asyncio.run(load(proxy.url, token, args.requests, args.concurrency))
                    )
            finally:
                code = proxy.stop()
        report = json.loads((folder / "report" / "report.json").read_text("utf-8"))
    sent = 200 + args.rounds * args.requests + 1  # + the readiness probe
    best_direct, best_proxied = max(direct), max(proxied)
    ratio = best_proxied / best_direct
    print(
        f"contract proxy overhead · {args.rounds} rounds × {args.requests} requests · "
        f"concurrency {args.concurrency}"
    )
    print(
        f"  direct to the upstream  {best_direct:8.0f} req/s  (rounds: "
        f"{', '.join(f'{r:.0f}' for r in direct)})"
    )
    print(
        f"  through contract proxy  {best_proxied:8.0f} req/s  (rounds: "
        f"{', '.join(f'{r:.0f}' for r in proxied)})"
    )
    print(f"  ratio proxy/direct      {ratio:8.2f}×  (goal ≥ {GOAL}×)")
    print(
        f"  proxy checked {report['requests']} of {sent} exchanges, "
        f"{len(report['findings'])} findings, exit {code}"
    )
    if report["requests"] != sent or report["findings"]:
        print("the proxy did not check every exchange cleanly", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
