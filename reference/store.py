"""Durable run state on SQLAlchemy Core (async): SQLite for one host, PostgreSQL for many.

- A caller that awaits a write knows it is committed: each one is its own transaction.
- Status changes are compare-and-set (`UPDATE ... WHERE status IN`), so a cancel and a completion
  racing each other, in one process or on two hosts, can never overwrite one another.
- Step starts and progress are buffered, not awaited: the next write transaction (or the flusher,
  every FLUSH_SECONDS) applies them first, so they commit in order with what follows them.
- A write that fails because the connection did (PostgreSQL restarting, SQLite busy past its
  timeout) is retried for up to RETRY_SECONDS: the runs keep going once the database is back.
- Leases: every worker renews its row in `workers`; the runs of a worker whose lease expired are
  marked ERROR by whichever worker reaps them (`reap_expired`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Integer, bindparam, case, delete, func, insert, or_, select, true, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from generated.agentos.models import RunStatus

from .database import Database
from .instance_lock import InstanceLock, WriterLock
from .schema import migrate
from .schema import runs as RUNS
from .schema import steps as STEPS
from .schema import workers as WORKERS

logger = logging.getLogger("reference.store")

T = TypeVar("T")
ACTIVE = frozenset({RunStatus.PENDING, RunStatus.RUNNING})
TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.CANCELLED, RunStatus.ERROR})
_ACTIVE_VALUES = ("PENDING", "RUNNING")
FLUSH_SECONDS = 0.1
RETRY_SECONDS = 30.0
IN_CHUNK = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class StepRecord:
    position: int
    name: str
    group: str | None
    status: RunStatus
    progress: int
    cleaned_up: bool
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    workflow_id: str
    session_id: str
    user_id: str | None
    input: str
    status: RunStatus
    content: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    steps: tuple[StepRecord, ...]
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class NewStep:
    name: str
    group: str | None


@dataclass(frozen=True, slots=True)
class Settling:
    """Where a cancelled run stands: steps not yet stopped, and whether its worker still lives."""

    open_steps: int
    owner_alive: bool


class StoreClosed(RuntimeError):
    """The store no longer accepts operations."""


def _retriable(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)


async def prepare(database: Database, *, interrupt_reason: str | None = None) -> int:
    """Create or migrate the schema; with a reason, mark every active run ERROR (one host only).

    Returns how many runs were interrupted. Runs on its own engine: call it from any event loop.
    """
    engine = database.engine()
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(writing=True)
            async with connection.begin():
                before, after = await migrate(connection)
                if before != after:
                    logger.info("run database migrated from schema %d to %d", before, after)
                if interrupt_reason is None:
                    return 0
                await connection.execute(delete(WORKERS))
                return len(await _interrupt(connection, interrupt_reason, owner=None))
    finally:
        await engine.dispose()


class Store:
    """The run store on one database. `await open()` inside the serving loop, `await close()`."""

    def __init__(
        self,
        database: Database,
        *,
        lock: InstanceLock | None = None,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.database = database
        self.retry_seconds = retry_seconds
        self._lock = lock  # released by close()
        self._engine: AsyncEngine | None = None
        # Leases have a connection of their own: a pool busy with runs must not starve them.
        self._lease_engine: AsyncEngine | None = None
        self._closed = False
        # SQLite has one writer at a time: queue this process's writers here, not on its lock.
        self._write_lock: asyncio.Lock | None = None
        self._writer: WriterLock | None = None  # SQLite: the writers of all processes
        self._lease_writer: WriterLock | None = None
        self._started: dict[tuple[str, int], str] = {}
        self._progress: dict[tuple[str, int], int] = {}
        self._flusher: asyncio.Task[None] | None = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None or self._closed:
            raise StoreClosed("the run store is closed")
        return self._engine

    async def open(self) -> None:
        self._engine = self.database.engine()
        self._lease_engine = self.database.engine(pool_size=1, overflow=1)
        if self.database.is_sqlite:
            self._write_lock = asyncio.Lock()
            self._writer = WriterLock(self.database.path)
            self._lease_writer = WriterLock(self.database.path)
        self._flusher = asyncio.create_task(self._flush_forever(), name="store flusher")

    async def close(self) -> None:
        """Apply what is buffered, then release every connection."""
        if self._closed or self._engine is None:
            self._closed = True
            if self._lock is not None:
                self._lock.release()
            return
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        try:
            await self._write(_nothing)
        except Exception:
            logger.exception("buffered step updates could not be written at close")
        self._closed = True
        await self._engine.dispose()
        if self._lease_engine is not None:
            await self._lease_engine.dispose()
        for writer in (self._writer, self._lease_writer):
            if writer is not None:
                writer.close()
        if self._lock is not None:
            self._lock.release()

    # -- transactions -------------------------------------------------------------------------

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            if self._started or self._progress:
                try:
                    await self._write(_nothing)
                except Exception:
                    logger.exception("buffered step updates could not be written")

    async def _write(self, operation: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `operation` in one write transaction, after the buffered updates; committed."""
        return await _uncancellable(self._retrying(lambda: self._locked_transaction(operation)))

    async def _lease_write(self, operation: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """A write on the lease connection: not queued behind the runs' writes."""

        async def attempt() -> T:
            if self._lease_engine is None or self._closed:
                raise StoreClosed("the run store is closed")
            if self._lease_writer is not None:
                await self._lease_writer.acquire()
            try:
                async with self._lease_engine.connect() as connection:
                    connection = await connection.execution_options(writing=True)
                    async with connection.begin():
                        return await operation(connection)
            finally:
                if self._lease_writer is not None:
                    self._lease_writer.release()

        return await _uncancellable(self._retrying(attempt))

    async def _locked_transaction(self, operation: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        if self._write_lock is None or self._writer is None:
            return await self._transaction(operation)
        async with self._write_lock:
            await self._writer.acquire()
            try:
                return await self._transaction(operation)
            finally:
                self._writer.release()

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.05
        while True:
            try:
                return await attempt()
            except Exception as exc:
                if not _retriable(exc) or time.monotonic() + delay > deadline:
                    raise
                logger.warning("store write failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _transaction(self, operation: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        started, self._started = self._started, {}
        progress, self._progress = self._progress, {}
        try:
            async with self.engine.connect() as connection:
                connection = await connection.execution_options(writing=True)
                async with connection.begin():
                    await _apply_buffered(connection, started, progress)
                    return await operation(connection)
        except BaseException:
            for key, moment in started.items():
                self._started.setdefault(key, moment)
            for key, amount in progress.items():
                self._progress[key] = max(amount, self._progress.get(key, 0))
            raise

    async def _read(self, operation: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        return await _uncancellable(self._retrying_read(operation))

    async def _retrying_read(self, operation: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.05
        while True:
            try:
                async with self.engine.connect() as connection:
                    return await operation(connection)
            except Exception as exc:
                if not _retriable(exc) or time.monotonic() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    # -- runs ---------------------------------------------------------------------------------

    async def insert_run(
        self,
        *,
        run_id: str,
        workflow_id: str,
        session_id: str,
        user_id: str | None,
        message: str,
        steps: Sequence[NewStep],
        owner: str | None = None,
    ) -> RunRecord:
        now = _stamp(utcnow())

        async def add(connection: AsyncConnection) -> RunRecord:
            await connection.execute(
                insert(RUNS).values(
                    run_id=run_id,
                    workflow_id=workflow_id,
                    session_id=session_id,
                    user_id=user_id,
                    input=message,
                    status="PENDING",
                    created_at=now,
                    updated_at=now,
                    owner=owner,
                )
            )
            await connection.execute(
                insert(STEPS),
                [
                    {
                        "run_id": run_id,
                        "position": index,
                        "name": step.name,
                        "grp": step.group,
                        "status": "PENDING",
                        "progress": 0,
                        "cleaned_up": 0,
                    }
                    for index, step in enumerate(steps)
                ],
            )
            record = await _select_run(connection, run_id)
            assert record is not None
            return record

        return await self._write(add)

    async def get_run(self, run_id: str) -> RunRecord | None:
        return await self._read(lambda connection: _select_run(connection, run_id))

    async def transition(
        self,
        run_id: str,
        allowed: Collection[RunStatus],
        target: RunStatus,
        *,
        content: str | None = None,
        error: str | None = None,
    ) -> RunStatus | None:
        """Move the run to `target` only if its status is in `allowed`; return the status after."""

        async def change(connection: AsyncConnection) -> RunStatus | None:
            await _compare_and_set(
                connection, run_id, allowed, target, content=content, error=error
            )
            return await _select_status(connection, run_id)

        return await self._write(change)

    async def notify(self, channel: str, payload: str) -> None:
        """PostgreSQL NOTIFY, sent when its (own, tiny) transaction commits."""

        async def send(connection: AsyncConnection) -> None:
            await connection.execute(select(func.pg_notify(channel, payload)))

        await self._write(send)

    async def close_steps(
        self, run_id: str, target: RunStatus, *, include_running: bool = False
    ) -> None:
        """Give every step that never started (and optionally every running one) `target`."""
        statuses = _ACTIVE_VALUES if include_running else ("PENDING",)
        finished = _stamp(utcnow())

        async def close(connection: AsyncConnection) -> None:
            await connection.execute(
                update(STEPS)
                .where(STEPS.c.run_id == run_id, STEPS.c.status.in_(statuses))
                .values(status=target.value, finished_at=finished)
            )

        await self._write(close)

    def step_started(self, run_id: str, position: int) -> None:
        self._started.setdefault((run_id, position), _stamp(utcnow()) or "")

    def step_progress(self, run_id: str, position: int, progress: int) -> None:
        value = max(0, min(100, progress))
        key = (run_id, position)
        self._progress[key] = max(value, self._progress.get(key, 0))

    async def step_finished(
        self, run_id: str, position: int, status: RunStatus, *, cleaned_up: bool
    ) -> None:
        finished = _stamp(utcnow())
        started = self._started.get((run_id, position), finished)

        async def finish(connection: AsyncConnection) -> None:
            values: dict[str, Any] = {
                "status": status.value,
                "cleaned_up": int(cleaned_up),
                "finished_at": finished,
                "started_at": func.coalesce(STEPS.c.started_at, started),
            }
            if status is RunStatus.COMPLETED:
                values["progress"] = 100
            await connection.execute(
                update(STEPS)
                .where(STEPS.c.run_id == run_id, STEPS.c.position == position)
                .values(**values)
            )

        await self._write(finish)

    async def interrupt_runs(self, reason: str, *, owner: str | None) -> int:
        """The active runs of `owner` (None: of everyone) and their open steps become ERROR."""
        return len(await self._write(lambda c: _interrupt(c, reason, owner=owner)))

    # -- what other workers did -----------------------------------------------------------------

    async def stopped_among(self, run_ids: Collection[str]) -> dict[str, RunStatus]:
        """Of these runs, the ones no longer PENDING/RUNNING in the database, with their status."""
        ids = list(run_ids)

        async def read(connection: AsyncConnection) -> dict[str, RunStatus]:
            found: dict[str, RunStatus] = {}
            for start in range(0, len(ids), IN_CHUNK):
                rows = await connection.execute(
                    select(RUNS.c.run_id, RUNS.c.status).where(
                        RUNS.c.run_id.in_(ids[start : start + IN_CHUNK]),
                        RUNS.c.status.not_in(_ACTIVE_VALUES),
                    )
                )
                found.update((row[0], RunStatus(row[1])) for row in rows)
            return found

        if not ids:
            return {}
        return await self._read(read)

    async def settling(self, run_id: str) -> Settling:
        now = time.time()

        async def read(connection: AsyncConnection) -> Settling:
            open_steps = await connection.scalar(
                select(func.count())
                .select_from(STEPS)
                .where(STEPS.c.run_id == run_id, STEPS.c.status.in_(_ACTIVE_VALUES))
            )
            alive = await connection.scalar(
                select(func.count())
                .select_from(RUNS.join(WORKERS, RUNS.c.owner == WORKERS.c.owner))
                .where(RUNS.c.run_id == run_id, WORKERS.c.expires_at >= now)
            )
            return Settling(open_steps=int(open_steps or 0), owner_alive=bool(alive))

        return await self._read(read)

    # -- leases -------------------------------------------------------------------------------

    async def renew_lease(self, owner: str, host: str, pid: int, expires_at: float) -> bool:
        """Extend `owner`'s lease; False when it had lapsed and was reaped (its runs are ERROR)."""

        async def renew(connection: AsyncConnection) -> bool:
            result = await connection.execute(
                update(WORKERS).where(WORKERS.c.owner == owner).values(expires_at=expires_at)
            )
            return bool(result.rowcount)

        return await self._lease_write(renew)

    async def take_lease(self, owner: str, host: str, pid: int, expires_at: float) -> None:
        async def take(connection: AsyncConnection) -> None:
            await connection.execute(
                insert(WORKERS).values(owner=owner, host=host, pid=pid, expires_at=expires_at)
            )

        await self._lease_write(take)

    async def drop_lease(self, owner: str) -> None:
        async def drop(connection: AsyncConnection) -> None:
            await connection.execute(delete(WORKERS).where(WORKERS.c.owner == owner))

        await self._lease_write(drop)

    async def interrupt_orphans(
        self, owner: str, running_here: Collection[str], older_than: datetime, reason: str
    ) -> list[str]:
        """Runs of a live `owner` that it no longer executes (their task died with the database
        away) become ERROR; only those unchanged since `older_than`, so a run being started is
        never taken for one."""
        here = set(running_here)
        stamp = _stamp(older_than)

        async def find(connection: AsyncConnection) -> list[str]:
            rows = await connection.scalars(
                select(RUNS.c.run_id).where(
                    RUNS.c.owner == owner,
                    RUNS.c.status.in_(_ACTIVE_VALUES),
                    RUNS.c.updated_at < stamp,
                )
            )
            return [run_id for run_id in rows if run_id not in here]

        orphans = await self._read(find)
        if not orphans:
            return []

        async def interrupt(connection: AsyncConnection) -> list[str]:
            done: list[str] = []
            for run_id in orphans:
                if await _compare_and_set(
                    connection, run_id, ACTIVE, RunStatus.ERROR, error=reason
                ):
                    done.append(run_id)
            await connection.execute(
                update(STEPS)
                .where(STEPS.c.run_id.in_(done), STEPS.c.status.in_(_ACTIVE_VALUES))
                .values(status="ERROR", finished_at=_stamp(utcnow()))
            )
            return done

        return await self._lease_write(interrupt)

    async def reap_expired(self, reason: str) -> list[str]:
        """Runs of every worker whose lease has expired become ERROR; their steps stop.

        A run already CANCELLED keeps that status; its steps still running read CANCELLED.
        """
        now = time.time()

        async def reap(connection: AsyncConnection) -> list[str]:
            owners = list(
                (
                    await connection.scalars(
                        select(WORKERS.c.owner).where(WORKERS.c.expires_at < now)
                    )
                ).all()
            )
            reaped: list[str] = []
            for owner in owners:
                reaped += await _interrupt(connection, reason, owner=owner)
                await connection.execute(
                    delete(WORKERS).where(WORKERS.c.owner == owner, WORKERS.c.expires_at < now)
                )
            return reaped

        return await self._lease_write(reap)


async def _uncancellable(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to its end even if the caller is cancelled (a run being stopped, say).

    A cancel landing inside a transaction could interrupt its rollback and leave the driver
    connection holding SQLite's write lock: every other writer would then wait out the busy
    timeout. The caller still sees its CancelledError at once; the transaction finishes behind it.
    """
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(_log_failure)
        raise


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("store operation failed after its caller was cancelled: %s", task.exception())


async def _nothing(_connection: AsyncConnection) -> None:
    return None


async def _apply_buffered(
    connection: AsyncConnection,
    started: dict[tuple[str, int], str],
    progress: dict[tuple[str, int], int],
) -> None:
    if started:
        await connection.execute(
            update(STEPS)
            .where(
                STEPS.c.run_id == bindparam("b_run"),
                STEPS.c.position == bindparam("b_position"),
                STEPS.c.status == "PENDING",
            )
            .values(status="RUNNING", started_at=bindparam("b_started")),
            [
                {"b_run": run_id, "b_position": position, "b_started": moment}
                for (run_id, position), moment in started.items()
            ],
        )
    if progress:
        value = bindparam("b_progress", type_=Integer)
        await connection.execute(
            update(STEPS)
            .where(
                STEPS.c.run_id == bindparam("b_run"),
                STEPS.c.position == bindparam("b_position"),
                STEPS.c.status == "RUNNING",
            )
            .values(progress=case((STEPS.c.progress < value, value), else_=STEPS.c.progress)),
            [
                {"b_run": run_id, "b_position": position, "b_progress": amount}
                for (run_id, position), amount in progress.items()
            ],
        )


async def _compare_and_set(
    connection: AsyncConnection,
    run_id: str,
    allowed: Collection[RunStatus],
    target: RunStatus,
    *,
    content: str | None = None,
    error: str | None = None,
) -> bool:
    now = _stamp(utcnow())
    values: dict[str, Any] = {"status": target.value, "updated_at": now}
    if target in TERMINAL:
        values["finished_at"] = func.coalesce(RUNS.c.finished_at, now)
    if content is not None:
        values["content"] = content
    if error is not None:
        values["error"] = error
    result = await connection.execute(
        update(RUNS)
        .where(RUNS.c.run_id == run_id, RUNS.c.status.in_([s.value for s in allowed]))
        .values(**values)
    )
    return bool(result.rowcount == 1)


async def _interrupt(connection: AsyncConnection, reason: str, *, owner: str | None) -> list[str]:
    """Active runs (of `owner`, or all) become ERROR; open steps of them, and of the owner's
    CANCELLED runs, are closed with their run's status."""
    now = _stamp(utcnow())
    mine = RUNS.c.owner == owner if owner is not None else true()
    ids = list(
        (
            await connection.scalars(
                select(RUNS.c.run_id).where(mine, RUNS.c.status.in_(_ACTIVE_VALUES))
            )
        ).all()
    )
    if ids:
        await connection.execute(
            update(RUNS)
            .where(RUNS.c.run_id.in_(ids), RUNS.c.status.in_(_ACTIVE_VALUES))
            .values(status="ERROR", error=reason, updated_at=now, finished_at=now)
        )
    run_status = select(RUNS.c.status).where(RUNS.c.run_id == STEPS.c.run_id).scalar_subquery()
    owned = select(RUNS.c.run_id).where(mine)
    await connection.execute(
        update(STEPS)
        .where(
            STEPS.c.status.in_(_ACTIVE_VALUES),
            or_(STEPS.c.run_id.in_(ids), STEPS.c.run_id.in_(owned))
            if owner is not None
            else STEPS.c.run_id.in_(ids),
        )
        .values(
            status=case((run_status == "CANCELLED", "CANCELLED"), else_="ERROR"),
            finished_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return ids


async def _select_status(connection: AsyncConnection, run_id: str) -> RunStatus | None:
    value = await connection.scalar(select(RUNS.c.status).where(RUNS.c.run_id == run_id))
    return RunStatus(value) if value is not None else None


def _step(row: Row[Any]) -> StepRecord:
    return StepRecord(
        position=row.position,
        name=row.name,
        group=row.grp,
        status=RunStatus(row.status),
        progress=row.progress,
        cleaned_up=bool(row.cleaned_up),
        started_at=_moment(row.started_at),
        finished_at=_moment(row.finished_at),
    )


async def _select_run(connection: AsyncConnection, run_id: str) -> RunRecord | None:
    row = (await connection.execute(select(RUNS).where(RUNS.c.run_id == run_id))).first()
    if row is None:
        return None
    step_rows = await connection.execute(
        select(STEPS).where(STEPS.c.run_id == run_id).order_by(STEPS.c.position)
    )
    created = _moment(row.created_at)
    updated = _moment(row.updated_at)
    assert created is not None and updated is not None
    return RunRecord(
        run_id=row.run_id,
        workflow_id=row.workflow_id,
        session_id=row.session_id,
        user_id=row.user_id,
        input=row.input,
        status=RunStatus(row.status),
        content=row.content,
        error=row.error,
        created_at=created,
        updated_at=updated,
        finished_at=_moment(row.finished_at),
        steps=tuple(_step(step) for step in step_rows),
        owner=row.owner,
    )
