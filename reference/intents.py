"""How a stop decided on one worker reaches the worker that executes the run.

The executor commits the run's new status first (CANCELLED by a cancel, ERROR by a reaped lease),
then calls `publish`; each worker's `StopIntents` calls back `deliver(run_id, status)` for runs it
may hold, and the executor stops those that are active there. Anything else that must learn of a
stop (a stream of the run, say) can wrap `deliver`.

- `PollingIntents`: reads the status of this worker's active runs every `interval` seconds. The
  only channel with SQLite (the workers of one host), and the fallback with PostgreSQL.
- `PostgresIntents`: LISTEN/NOTIFY on one channel, reconnecting when the connection drops, with
  polling underneath so an intent sent while the listener was down still arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection
from typing import Protocol

import psycopg

from generated.agentos.models import RunStatus

from .database import Database
from .store import Store

logger = logging.getLogger("reference.intents")

CHANNEL = "agentos_run_stop"
RECONNECT_SECONDS = 0.5

Deliver = Callable[[str, RunStatus], None]
ActiveRuns = Callable[[], Collection[str]]


class StopIntents(Protocol):
    async def open(self, deliver: Deliver, active: ActiveRuns) -> None:
        """Start delivering: `active()` is the run ids this worker executes right now."""

    async def publish(self, run_id: str) -> None:
        """The run's stop is committed; tell the worker that executes it."""

    async def close(self) -> None: ...


class PollingIntents:
    def __init__(self, store: Store, interval: float) -> None:
        self.store = store
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def open(self, deliver: Deliver, active: ActiveRuns) -> None:
        self._task = asyncio.create_task(self._poll(deliver, active), name="stop intents: poll")

    async def publish(self, run_id: str) -> None:
        return None  # the committed status is the intent: the owner's next poll reads it

    async def _poll(self, deliver: Deliver, active: ActiveRuns) -> None:
        while True:
            await asyncio.sleep(self.interval)
            ids = list(active())
            if not ids:
                continue
            try:
                stopped = await self.store.stopped_among(ids)
            except Exception as exc:
                logger.warning("polling for stopped runs failed: %s", type(exc).__name__)
                continue
            for run_id, status in stopped.items():
                deliver(run_id, status)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class PostgresIntents:
    def __init__(self, store: Store, database: Database, fallback_interval: float) -> None:
        self.store = store
        self.database = database
        self.polling = PollingIntents(store, fallback_interval)
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    async def open(self, deliver: Deliver, active: ActiveRuns) -> None:
        await self.polling.open(deliver, active)
        self._task = asyncio.create_task(self._listen(deliver), name="stop intents: listen")

    async def publish(self, run_id: str) -> None:
        await self.store.notify(CHANNEL, run_id)

    async def _listen(self, deliver: Deliver) -> None:
        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(
                    self.database.conninfo, autocommit=True, connect_timeout=10
                )
                async with connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    async for message in connection.notifies():
                        deliver(message.payload, RunStatus.CANCELLED)
            except psycopg.Error as exc:
                logger.warning("LISTEN connection lost (%s); polling meanwhile", type(exc).__name__)
            finally:
                self.listening.clear()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.polling.close()


def intents_for(store: Store, poll_interval: float) -> StopIntents:
    """LISTEN/NOTIFY on PostgreSQL, polling on SQLite."""
    if store.database.is_sqlite:
        return PollingIntents(store, poll_interval)
    return PostgresIntents(store, store.database, poll_interval)
