"""`contract serve`: the reference implementation on uvicorn, never unauthenticated."""

from __future__ import annotations

import socket
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


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (0: any free port), or ReferenceDidNotStart saying why not.

    Bound here rather than by uvicorn so that a taken port is one line and exit 2, not a log.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (OSError, OverflowError) as exc:
        sock.close()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ReferenceDidNotStart(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def serve(host: str, port: int, token: str, db: Path | None) -> bool:
    """Serve until interrupted; False when uvicorn stopped without having started."""
    sock = listen(host, port)
    try:
        app = open_app(db, token)
    except ReferenceDidNotStart:
        sock.close()
        raise
    print(f"contract serve: runs are stored in {db or DEFAULT_DB}", flush=True)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = uvicorn.Server(config)
    print(f"contract serve: listening on http://{host}:{port}", flush=True)
    try:
        server.run(sockets=[sock])
    except SystemExit:  # uvicorn's own way of giving up
        return False
    finally:
        sock.close()
    return bool(server.started)
