"""Assemble the reference server: store, executor and implementation behind the generated app.

`create(db, token)` is the factory; `contract serve` (reference.serve, reference.worker) and the
embedded reference of `contract conform` (reference.embedded) call it. `db` is a SQLite path or a
`postgresql://` URL (reference.database).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from generated.agentos import create_app

from .blocking import run_blocking
from .database import Database
from .executor import CRASH_REASON, DEFAULT_POLL_SECONDS, WorkflowExecutor
from .instance_lock import InstanceLock
from .leases import (
    DEFAULT_LEASE_SECONDS,
    LEASE_VARIABLE,
    MAX_LEASE_SECONDS,
    POLL_VARIABLE,
    configured_seconds,
)
from .service import ReferenceAgentOS
from .store import RETRY_SECONDS, Store, prepare
from .workflows import Workflow, demo_workflows

DEFAULT_DB = Path("agentos.db")
RETRY_VARIABLE = "AGENTOS_DB_RETRY_SECONDS"
# Without LISTEN/NOTIFY (SQLite) polling is the channel; with it, only the fallback.
POSTGRES_FALLBACK_POLL_SECONDS = 1.0

logger = logging.getLogger("reference.app")

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def prepare_database(database: Database, *, primary: bool = True) -> InstanceLock | None:
    """Migrate the schema; for the one instance on a SQLite file, recover its last crash.

    `primary`: this process is the instance (not one of its uvicorn workers, whose parent already
    did this). On SQLite the instance takes the file's lock and marks every run the previous
    instance left active as ERROR; on PostgreSQL expired leases do that, instance by instance.
    """
    lock = InstanceLock.take(database.path) if primary and database.is_sqlite else None
    reason = CRASH_REASON if lock is not None else None
    try:
        count = run_blocking(lambda: prepare(database, interrupt_reason=reason))
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    if count:
        logger.warning("%d run(s) were interrupted by the previous shutdown: now ERROR", count)
    return lock


def build_executor(
    db: Path | str,
    workflows: tuple[Workflow, ...] | None = None,
    *,
    primary: bool = True,
    lock: InstanceLock | None = None,
) -> WorkflowExecutor:
    """Prepare the database and register the workflows; the executor opens in the lifespan."""
    database = Database.from_arg(db)
    lease = configured_seconds(LEASE_VARIABLE, DEFAULT_LEASE_SECONDS, maximum=MAX_LEASE_SECONDS)
    default_poll = DEFAULT_POLL_SECONDS if database.is_sqlite else POSTGRES_FALLBACK_POLL_SECONDS
    poll = configured_seconds(POLL_VARIABLE, default_poll)
    retry = configured_seconds(RETRY_VARIABLE, RETRY_SECONDS)
    if lock is None:
        lock = prepare_database(database, primary=primary)
    return WorkflowExecutor(
        Store(database, lock=lock, retry_seconds=retry),
        workflows or demo_workflows(),
        lease_seconds=lease,
        poll_seconds=poll,
    )


def attach_executor(app: FastAPI, executor: WorkflowExecutor) -> FastAPI:
    """Open the executor at app start-up; stop it (runs interrupted, cleanup runs) at shutdown."""
    previous: Lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with previous(application) as state:
            await executor.open()
            try:
                yield state
            finally:
                await executor.shutdown()

    app.router.lifespan_context = lifespan
    return app


def create(
    db: Path | str = DEFAULT_DB,
    token: str | None = None,
    *,
    workflows: tuple[Workflow, ...] | None = None,
    primary: bool = True,
) -> FastAPI:
    """The reference AgentOS app on the database `db`, admitting only `token`."""
    if not token:
        raise ValueError("a bearer token is required: the reference never serves unauthenticated")
    executor = build_executor(db, workflows, primary=primary)
    return attach_executor(create_app(ReferenceAgentOS(executor), token=token), executor)
