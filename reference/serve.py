"""`contract serve`: the reference implementation on uvicorn, never unauthenticated.

`--workers N` runs N uvicorn worker processes on one socket (uvicorn's own supervisor, which
restarts a worker that dies); each builds its app with `reference.worker`. `--db` is a SQLite
path (one instance per file, any number of workers) or `postgresql://...` (any number of
instances on any hosts).
"""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path

import psycopg
import uvicorn
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from uvicorn.supervisors import Multiprocess

from .app import DEFAULT_DB, create, prepare_database
from .database import Database
from .instance_lock import InstanceLock
from .workflows import Workflow

GRACEFUL_SHUTDOWN_SECONDS = 5
# How `contract serve --workers N` hands its settings to the worker processes it spawns.
WORKER_DB_VARIABLE = "AGENTOS_REFERENCE_DB"
WORKER_TOKEN_VARIABLE = "AGENTOS_REFERENCE_TOKEN"  # noqa: S105 - a variable name
WORKER_FACTORY = "reference.worker:worker_app"


class ReferenceDidNotStart(Exception):
    """The reference cannot serve (its database, its configuration); the message is one line."""


def _reason(exc: BaseException) -> str:
    """One line, whatever raised it: a driver's message without SQLAlchemy's SQL and links."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:300]


def _database(db: Path | str | None) -> Database:
    try:
        return Database.from_arg(db if db is not None else DEFAULT_DB)
    except ValueError as exc:
        raise ReferenceDidNotStart(str(exc)) from None


def open_app(
    db: Path | str | None,
    token: str,
    workflows: tuple[Workflow, ...] | None = None,
    *,
    primary: bool = True,
) -> FastAPI:
    """The reference app on `db` (default agentos.db), or ReferenceDidNotStart with the reason."""
    database = _database(db)
    try:
        return create(
            db if db is not None else DEFAULT_DB, token, workflows=workflows, primary=primary
        )
    except (sqlite3.Error, OSError, SQLAlchemyError, psycopg.Error) as exc:
        raise ReferenceDidNotStart(
            f"cannot open the run database {database}: {_reason(exc)}"
        ) from None
    except ValueError as exc:
        raise ReferenceDidNotStart(str(exc)) from None


def _prepare_for_workers(db: Path | str | None) -> InstanceLock | None:
    database = _database(db)
    try:
        return prepare_database(database)
    except (sqlite3.Error, OSError, SQLAlchemyError, psycopg.Error) as exc:
        raise ReferenceDidNotStart(
            f"cannot open the run database {database}: {_reason(exc)}"
        ) from None
    except ValueError as exc:
        raise ReferenceDidNotStart(str(exc)) from None


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (0: any free port), or ReferenceDidNotStart saying why not.

    Bound here rather than by uvicorn so that a taken port is one line and exit 2, not a log.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP and TCP_NODELAY: asyncio turns Nagle off only for accepted sockets whose
    # protocol reads IPPROTO_TCP (0 here otherwise), and with Nagle on a response written as
    # headers, then body waits 40 ms for the client's delayed ACK on every keep-alive request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets
    try:
        sock.bind((host, port))
    except (OSError, OverflowError) as exc:
        sock.close()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ReferenceDidNotStart(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def serve(host: str, port: int, token: str, db: Path | str | None, workers: int = 1) -> bool:
    """Serve until interrupted; False when uvicorn stopped without having started."""
    sock = listen(host, port)
    if workers > 1:
        return _serve_workers(sock, host, port, token, db, workers)
    try:
        app = open_app(db, token)
    except ReferenceDidNotStart:
        sock.close()
        raise
    print(f"contract serve: runs are stored in {_database(db)}", flush=True)
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


def _serve_workers(
    sock: socket.socket, host: str, port: int, token: str, db: Path | str | None, workers: int
) -> bool:
    try:
        lock = _prepare_for_workers(db)
    except ReferenceDidNotStart:
        sock.close()
        raise
    database = _database(db)
    os.environ[WORKER_DB_VARIABLE] = str(db if db is not None else DEFAULT_DB)
    os.environ[WORKER_TOKEN_VARIABLE] = token
    print(f"contract serve: runs are stored in {database}", flush=True)
    config = uvicorn.Config(
        WORKER_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    print(f"contract serve: listening on http://{host}:{port} with {workers} workers", flush=True)
    try:
        Multiprocess(config, sockets=[sock]).run()
    except SystemExit:
        return False
    finally:
        sock.close()
        if lock is not None:
            lock.release()
    return True
