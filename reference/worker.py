"""The app of one uvicorn worker of `contract serve --workers N` (spawned, so built from scratch).

The parent already migrated the database and, on SQLite, holds the instance lock and recovered
the previous crash; a worker only opens its own connections and takes its own lease.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from .serve import WORKER_DB_VARIABLE, WORKER_TOKEN_VARIABLE, open_app


def worker_app() -> FastAPI:
    return open_app(
        os.environ[WORKER_DB_VARIABLE], os.environ[WORKER_TOKEN_VARIABLE], primary=False
    )
