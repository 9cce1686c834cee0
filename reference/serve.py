"""`contract serve`: the reference implementation on uvicorn, never unauthenticated."""

from __future__ import annotations

import os
import secrets
import sqlite3
import sys
from pathlib import Path

import uvicorn

from .app import DEFAULT_DB, TOKEN_VARIABLE, create

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNUSABLE = 2
GRACEFUL_SHUTDOWN_SECONDS = 5


def resolve_token(token: str | None) -> tuple[str, bool]:
    """--token, else $CONTRACT_TOKEN, else a fresh random one; and whether it was generated."""
    for candidate in (token, os.environ.get(TOKEN_VARIABLE)):
        if candidate and candidate.strip():
            return candidate.strip(), False
    return secrets.token_urlsafe(32), True


def serve(host: str, port: int, token: str | None, db: Path | None) -> int:
    """Serve until interrupted; the exit code for `contract serve`."""
    bearer, generated = resolve_token(token)
    database = db if db is not None else DEFAULT_DB
    try:
        app = create(database, bearer)
    except (sqlite3.Error, OSError, ValueError) as exc:
        print(f"contract serve: cannot open the run database {database}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    if generated:
        print(
            f"contract serve: no --token or ${TOKEN_VARIABLE} given; "
            f"clients must send 'Authorization: Bearer {bearer}'",
            flush=True,
        )
    print(f"contract serve: runs are stored in {database}", flush=True)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = uvicorn.Server(config)
    try:
        server.run()
    except SystemExit as exc:  # uvicorn exits this way when it cannot bind
        code = exc.code if isinstance(exc.code, int) else EXIT_FAILED
        return code or EXIT_FAILED
    return EXIT_OK if server.started else EXIT_FAILED
