"""One `contract conform` run per (server, arguments) per test session, read by every test that
asks for it.

A run against a broken server is seconds of subprocesses (uvicorn, then `contract conform`), and
several tests assert different things about the very same run: the same server, spec, token, seed
and example count give the same requests and so the same report. The first test to ask runs it and
stores the outcome in the session's temporary folder; the others read it back. Under pytest-xdist
the folder is shared by the workers and a file lock makes a second worker wait for the first one's
run instead of repeating it. Nothing outlives the session (pytest's temporary folders are fresh
per session).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from tests.support.conform import Outcome, broken_server, conform


class ConformOutcomes:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def get(
        self,
        server: str,
        *extra: str,
        env: Mapping[str, str] | None = None,
        **options: object,
    ) -> Outcome:
        """`conform(url, *extra, **options)` against `broken_server(server, env)`, with a report
        folder, run once per session for the same arguments (the outcome is shared: read it, do
        not write into its folder)."""
        assert "report" not in options, "the report folder is the cache's"
        arguments = [server, list(extra), dict(sorted((env or {}).items())), options]
        key = hashlib.sha256(json.dumps(arguments, sort_keys=True, default=str).encode())
        entry = self.root / f"{server}-{key.hexdigest()[:16]}"
        stored = entry / "outcome.json"
        with (self.root / f"{entry.name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not stored.is_file():
                entry.mkdir(exist_ok=True)
                report = entry / "report"
                with broken_server(server, env) as url:
                    done = conform(url, *extra, report=report, **options)  # type: ignore[arg-type]
                record = {"returncode": done.returncode, "stdout": done.stdout}
                record["stderr"] = done.stderr
                partial = entry / "outcome.json.partial"
                partial.write_text(json.dumps(record), "utf-8")
                os.replace(partial, stored)  # a run that raised leaves nothing to read back
        record = json.loads(stored.read_text("utf-8"))
        return Outcome(record["returncode"], record["stdout"], record["stderr"], entry / "report")


def session_folder(basetemp: Path) -> Path:
    """The session's temporary folder, shared by all xdist workers (each has its own basetemp
    inside it); without xdist, the basetemp itself."""
    shared = basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp
    return shared / "conform-outcomes"
