"""Assemble the reference server: store, runtime and implementation behind the generated app.

`create(db_path, token)` is the factory for code and tests; `create_from_env` is the
zero-argument factory for `uvicorn --factory reference.app:create_from_env`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from generated.agentos import create_app

from .runtime import Runtime
from .service import ReferenceAgentOS
from .store import Store
from .workflows import Workflow, demo_workflows

DB_VARIABLE = "AGENTOS_DB"
TOKEN_VARIABLE = "CONTRACT_TOKEN"  # noqa: S105 - a variable name, not a secret
DEFAULT_DB = Path("agentos.db")

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def build_runtime(db_path: Path | str, workflows: tuple[Workflow, ...] | None = None) -> Runtime:
    """Open the store, mark runs the last process left active as ERROR, register workflows."""
    runtime = Runtime(Store.open(Path(db_path)), workflows or demo_workflows())
    runtime.recover()
    return runtime


def attach_runtime(app: FastAPI, runtime: Runtime) -> FastAPI:
    """Stop the runtime (runs are interrupted, cleanup runs, the store closes) at app shutdown."""
    previous: Lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with previous(application) as state:
            try:
                yield state
            finally:
                await runtime.shutdown()

    app.router.lifespan_context = lifespan
    return app


def create(
    db_path: Path | str = DEFAULT_DB,
    token: str | None = None,
    *,
    workflows: tuple[Workflow, ...] | None = None,
) -> FastAPI:
    """The reference AgentOS app on the SQLite file `db_path`, admitting only `token`."""
    if not token:
        raise ValueError("a bearer token is required: the reference never serves unauthenticated")
    runtime = build_runtime(db_path, workflows)
    return attach_runtime(create_app(ReferenceAgentOS(runtime), token=token), runtime)


def create_from_env() -> FastAPI:
    """`create` configured by $AGENTOS_DB (default agentos.db) and $CONTRACT_TOKEN (required)."""
    return create(os.environ.get(DB_VARIABLE) or DEFAULT_DB, os.environ.get(TOKEN_VARIABLE))
