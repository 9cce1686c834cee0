"""`contract serve`: the reference implementation on uvicorn, never unauthenticated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from .app import DEFAULT_DB, create
from .workflows import Workflow

GRACEFUL_SHUTDOWN_SECONDS = 5


class ReferenceDidNotStart(Exception):
    """The reference cannot serve (its database, its configuration); the message is one line."""


def open_app(db: Path | None, token: str, workflows: tuple[Workflow, ...] | None = None) -> FastAPI:
    """The reference app on `db` (default agentos.db), or ReferenceDidNotStart with the reason."""
    database = db if db is not None else DEFAULT_DB
    try:
        return create(database, token, workflows=workflows)
    except (sqlite3.Error, OSError) as exc:
        raise ReferenceDidNotStart(f"cannot open the run database {database}: {exc}") from None
    except ValueError as exc:
        raise ReferenceDidNotStart(str(exc)) from None


def serve(host: str, port: int, token: str, db: Path | None) -> bool:
    """Serve until interrupted; False when uvicorn could not start (the port is taken, say)."""
    app = open_app(db, token)
    print(f"contract serve: runs are stored in {db or DEFAULT_DB}", flush=True)
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
    except SystemExit:  # uvicorn exits this way when it cannot bind
        return False
    return bool(server.started)
