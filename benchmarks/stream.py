"""Events per second through the generated SSE path vs a hand-written FastAPI streaming endpoint.

Both peers (benchmarks/stream_apps.py) build the same typed Tick per event and run in their
own uvicorn process on 127.0.0.1 (h11, no access log), measured in the same run, in alternating
order; the client reads each stream with httpx and counts the events it received.

    .venv/bin/python benchmarks/stream.py [--events 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from generator.codegen.output import write_package  # noqa: E402
from generator.codegen.pipeline import generate_package  # noqa: E402
from generator.launch import ServerProcess, free_port  # noqa: E402

SPEC = BENCH / "stream_case" / "openapi.yaml"


def serve(factory: str, root: Path) -> ServerProcess:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", f"stream_apps:{factory}"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--http", "h11", "--no-access-log"]
    command += ["--log-level", "warning"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(BENCH), str(REPO)])}
    return ServerProcess(
        command, url=f"http://127.0.0.1:{port}", log=root / f"{factory}.log", env=env, cwd=REPO
    )


def events_per_second(url: str, count: int) -> float:
    with httpx.Client(timeout=120) as client:
        started = time.perf_counter()
        received = 0
        with client.stream("GET", f"{url}/ticks", params={"count": count}) as reply:
            assert reply.status_code == 200, reply.status_code
            for chunk in reply.iter_bytes():
                received += chunk.count(b"\n\n")
        elapsed = time.perf_counter() - started
    assert received == count, (received, count)
    return count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stream-bench-") as scratch:
        root = Path(scratch)
        write_package(root / "stream_bench", generate_package(SPEC, "stream_bench"))
        ours, peer = serve("generated", root), serve("handwritten", root)
        with ours, peer:
            for server in (ours, peer):  # warm up: imports, first-call caches
                events_per_second(server.url, 1000)
            figures: dict[str, list[float]] = {"generated": [], "handwritten": []}
            for round_index in range(args.rounds):
                order = [("generated", ours), ("handwritten", peer)]
                for name, server in order if round_index % 2 == 0 else order[::-1]:
                    figures[name].append(events_per_second(server.url, args.events))
    generated = statistics.median(figures["generated"])
    handwritten = statistics.median(figures["handwritten"])
    print(f"events per stream: {args.events}, rounds: {args.rounds} (median)")
    print(f"generated SSE path (validated, typed): {generated:,.0f} events/s")
    print(f"hand-written FastAPI StreamingResponse: {handwritten:,.0f} events/s")
    print(f"ratio generated / hand-written: {generated / handwritten:.2f}x (goal >= 0.9x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
