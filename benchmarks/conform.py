"""Test cases per second: `contract conform` versus plain `st run`, same checks, same cases.

Both judge the same server (tests/broken/good.py, which conforms, on 127.0.0.1) with the same
Schemathesis settings: ours come from `conformance.schemathesis_api.schemathesis_config` and the
peer gets the very same dictionary as its `schemathesis.toml`, with our checks registered through
SCHEMATHESIS_HOOKS=conformance.checks. No `--param`, so `contract conform` makes one engine pass,
like `st run`, plus its probes. A case is a request the server received (counted by the server,
so neither tool counts its own); the time is the wall time of the whole command, start-up
included. Rounds alternate between the two tools; the median rate of each is compared.

    .venv/bin/python benchmarks/conform.py [--rounds 3] [--max-examples 100] [--seed 1]

Goal: ratio >= 0.9 (our strictness costs at most 10%).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from conformance.checks import CHECK_NAMES  # noqa: E402
from conformance.credentials import credential_headers  # noqa: E402
from conformance.options import Options  # noqa: E402
from conformance.schemathesis_api import schemathesis_config  # noqa: E402
from generator.spec.config import TOKEN_VARIABLE  # noqa: E402
from tests.support.server import uvicorn_server  # noqa: E402

SPEC = REPO / "tests" / "broken" / "contract.yaml"
TOKEN = "benchmark-token-5d1e"
BIN = Path(sys.executable).parent
RESULTS = REPO / "benchmarks" / "results"


def toml(data: dict[str, Any], prefix: str = "") -> str:
    """Enough TOML for a Schemathesis config: nested tables of scalars and lists."""
    scalars, tables = [], []
    for key, value in data.items():
        name = json.dumps(key) if not key.replace("-", "").replace("_", "").isalnum() else key
        if isinstance(value, dict):
            tables.append(toml(value, f"{prefix}{name}."))
        else:
            scalars.append(f"{name} = {json.dumps(value)}")
    head = f"[{prefix[:-1]}]\n" if prefix and scalars else ""
    return head + "".join(f"{line}\n" for line in scalars) + "".join(tables)


def run(command: list[str], log: Path, env: dict[str, str]) -> tuple[float, int, int]:
    log.write_text("", "utf-8")
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    cases = len(log.read_text("utf-8").splitlines())
    return wall, cases, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    environment = {k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE}
    with tempfile.TemporaryDirectory(prefix="bench-conform-") as scratch:
        log = Path(scratch) / "requests.log"
        server_env = {"CONFORMANCE_TEST_TOKEN": TOKEN, "CONFORMANCE_REQUEST_LOG": str(log)}
        with uvicorn_server("tests.broken.good:create", env=server_env) as url:
            options = Options.build(
                spec=SPEC,
                url=url,
                token=TOKEN,
                max_examples=args.max_examples,
                seed=args.seed,
                request_timeout=10.0,
            )
            headers = credential_headers(options.spec.document, TOKEN)
            settings = schemathesis_config(options, headers, checks=CHECK_NAMES)
            config = Path(scratch) / "schemathesis.toml"
            config.write_text(toml(settings), "utf-8")
            ours = [
                str(BIN / "contract"), "conform", str(SPEC), "--url", url, "--token", TOKEN,
                "--max-examples", str(args.max_examples), "--seed", str(args.seed),
            ]  # fmt: skip
            peer = [
                str(BIN / "st"), "--config-file", str(config), "run", str(SPEC), "--url", url,
            ]  # fmt: skip
            peer_env = dict(environment, SCHEMATHESIS_HOOKS="conformance.checks")
            rates: dict[str, list[float]] = {"contract conform": [], "st run": []}
            cases: dict[str, list[int]] = {"contract conform": [], "st run": []}
            for round_number in range(1, args.rounds + 1):
                for name, command, env in (
                    ("contract conform", ours, environment),
                    ("st run", peer, peer_env),
                ):
                    wall, count, code = run(command, log, env)
                    if code not in (0, 1):
                        print(f"{name} failed with exit {code}", file=sys.stderr)
                        return 2
                    rates[name].append(count / wall)
                    cases[name].append(count)
                    print(f"round {round_number}: {name:<16} {count:5d} cases in {wall:6.2f} s "
                          f"= {count / wall:7.1f} cases/s (exit {code})")  # fmt: skip
    ours_rate = statistics.median(rates["contract conform"])
    peer_rate = statistics.median(rates["st run"])
    ratio = ours_rate / peer_rate
    print(f"checks: {', '.join(CHECK_NAMES)} (both tools)")
    print(f"median: contract conform {ours_rate:.1f} cases/s, st run {peer_rate:.1f} cases/s")
    print(f"ratio contract conform / st run: {ratio:.2f} (goal >= 0.90)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "conform.json").write_text(
        json.dumps(
            {
                "max_examples": args.max_examples,
                "seed": args.seed,
                "rounds": args.rounds,
                "cases": cases,
                "cases_per_second": rates,
                "ratio": round(ratio, 3),
            },
            indent=2,
        )
        + "\n",
        "utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
