"""What a hostile server costs the runner: wall time, peak memory and the verdict, per server.

Each deliberately hostile server of tests/broken/ is started with uvicorn on 127.0.0.1 and
`contract conform --url` is run against it once, in a fresh child measured by `_bench.measure`
(peak RSS: the largest process of its tree). The peer is the good server of the same contract,
checked with the same arguments: each row prints its time and memory as a ratio to it.

    .venv/bin/python benchmarks/hostile.py [--max-examples 8]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._bench import measure  # noqa: E402
from generator.launch import contract_command  # noqa: E402
from tests.broken import redirect  # noqa: E402
from tests.support.conform import CONTRACT, PINS, TOKEN, broken_server  # noqa: E402
from tests.support.server import uvicorn_server  # noqa: E402

SERVERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("good", ()),
    ("gzip_bomb", ()),
    ("endless_body", ("--max-response-bytes", "1000000")),
    ("huge_headers", ()),
    ("drip", ("--request-timeout", "2")),
    ("redirect", ()),
    ("malformed_json", ()),
    ("non_utf8", ()),
    ("hostile_text", ()),
)


@contextmanager
def serving(name: str, scratch: Path) -> Iterator[str]:
    """The server; for `redirect`, with the other origin its 307 points at (no token arrives)."""
    if name != "redirect":
        with broken_server(name) as url:
            yield url
        return
    log = scratch / "other-origin.log"
    log.touch()
    env = {redirect.LOG_VARIABLE: str(log)}
    with uvicorn_server("tests.broken.redirect:create_target", env=env) as other_origin:
        with broken_server(name, {redirect.TARGET_VARIABLE: other_origin}) as url:
            yield url
    assert "Bearer" not in log.read_text("utf-8"), "the token went to another origin"


def run(name: str, extra: tuple[str, ...], max_examples: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"hostile-{name}-") as scratch:
        report = Path(scratch) / "report"
        with serving(name, Path(scratch)) as url:
            command = [
                *contract_command(),
                "conform",
                str(CONTRACT),
                "--url",
                url,
                *PINS,
                "--max-examples",
                str(max_examples),
                "--seed",
                "1",
                "--report",
                str(report),
                *extra,
            ]
            measured = measure(command, env={**os.environ, "CONTRACT_TOKEN": TOKEN}, cwd=REPO)
        data = json.loads((report / "report.json").read_text("utf-8"))
    codes = sorted({f"{f['code']} {f['check']}" for f in data["findings"]})
    return {
        "server": name,
        "seconds": measured.wall,
        "peak_mib": measured.max_rss_mb,
        "exit": measured.returncode,
        "findings": ", ".join(codes) or "none",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--max-examples", type=int, default=8, help="cases per operation and phase (default 8)"
    )
    args = parser.parse_args()
    rows = [run(name, extra, args.max_examples) for name, extra in SERVERS]
    peer = rows[0]
    print("contract conform against each hostile server; peer: the good server, same arguments")
    print(f"{'server':<16}{'s':>7}{'×':>6}{'MiB':>7}{'×':>6}{'exit':>6}  findings")
    for row in rows:
        seconds, peak = float(str(row["seconds"])), float(str(row["peak_mib"]))
        ratio_s = seconds / float(str(peer["seconds"]))
        ratio_m = peak / float(str(peer["peak_mib"]))
        print(
            f"{row['server']!s:<16}{seconds:>7.1f}{ratio_s:>6.2f}{peak:>7.0f}{ratio_m:>6.2f}"
            f"{row['exit']!s:>6}  {row['findings']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
