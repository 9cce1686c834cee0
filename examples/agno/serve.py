"""Serve the offline AgentOS of `app.py` on a loopback address with uvicorn.

    python serve.py [--port 7777] [--db-dir DIR]

Run it with the agno virtual environment's Python. Bearer auth is on when `OS_SECURITY_KEY` is set
in the environment (Agno reads it from there; it never goes on a command line). Without
`--db-dir` the SQLite file lives in a fresh temporary folder, removed on exit.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("AGNO_TELEMETRY", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=7777)
    parser.add_argument("--db-dir", type=Path, default=None)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)

    import uvicorn
    from app import build_app

    with tempfile.TemporaryDirectory(prefix="agno-db-") as scratch:
        app = build_app(args.db_dir or Path(scratch))
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
