"""Assemble the reference server: store, executor and implementation behind the generated app.

`create(db_path, token)` is the factory; `contract serve` and the embedded reference of
`contract conform` (reference.embedded) call it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from generated.agentos import create_app

from .executor import WorkflowExecutor
from .service import ReferenceAgentOS
from .store import Store
from .workflows import Workflow, demo_workflows

DEFAULT_DB = Path("agentos.db")

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def build_executor(
    db_path: Path | str, workflows: tuple[Workflow, ...] | None = None
) -> WorkflowExecutor:
    """Open the store, mark runs the last process left active as ERROR, register workflows."""
    executor = WorkflowExecutor(Store.open(Path(db_path)), workflows or demo_workflows())
    executor.recover()
    return executor


def attach_executor(app: FastAPI, executor: WorkflowExecutor) -> FastAPI:
    """Stop the executor (runs are interrupted, cleanup runs, the store closes) at app shutdown."""
    previous: Lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with previous(application) as state:
            try:
                yield state
            finally:
                await executor.shutdown()

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
    executor = build_executor(db_path, workflows)
    return attach_executor(create_app(ReferenceAgentOS(executor), token=token), executor)
