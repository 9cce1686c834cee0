"""Durable run state in SQLite: one connection, one thread, batched transactions.

Every statement runs on a single thread that owns the only connection, so two writers can never
meet and "database is locked" cannot happen inside one server process. Operations are queued;
the thread drains whatever is waiting and applies it in one transaction (one fsync for many
concurrent requests), then resolves each caller's future on its event loop. A caller that awaits
a write knows it is committed. Status changes are compare-and-set (`UPDATE ... WHERE status IN`),
so a cancel and a completion racing each other can never overwrite one another.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from generated.agentos.models import RunStatus

logger = logging.getLogger("reference.store")

T = TypeVar("T")
ACTIVE = frozenset({RunStatus.PENDING, RunStatus.RUNNING})
TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.CANCELLED, RunStatus.ERROR})
MAX_BATCH = 512
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    user_id     TEXT,
    input       TEXT NOT NULL,
    status      TEXT NOT NULL
                CHECK (status IN ('PENDING', 'RUNNING', 'COMPLETED', 'CANCELLED', 'ERROR')),
    content     TEXT,
    error       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS runs_active ON runs (status) WHERE status IN ('PENDING', 'RUNNING');
CREATE TABLE IF NOT EXISTS steps (
    run_id      TEXT NOT NULL REFERENCES runs (run_id),
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    grp         TEXT,
    status      TEXT NOT NULL
                CHECK (status IN ('PENDING', 'RUNNING', 'COMPLETED', 'CANCELLED', 'ERROR')),
    progress    INTEGER NOT NULL DEFAULT 0,
    cleaned_up  INTEGER NOT NULL DEFAULT 0,
    started_at  TEXT,
    finished_at TEXT,
    PRIMARY KEY (run_id, position)
);
"""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


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


@dataclass(frozen=True, slots=True)
class NewStep:
    name: str
    group: str | None


Operation = Callable[[sqlite3.Connection], Any]


@dataclass(slots=True)
class _Job:
    operation: Operation
    write: bool
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[Any] | None = None


class StoreClosed(RuntimeError):
    """The store no longer accepts operations."""


class StoreBusy(OSError):
    """Another process serves from this database: its runs are not ours to recover."""


def _lock(path: Path) -> int:
    """Hold an exclusive lock on `<db>.lock` for the life of the process (released on exit)."""
    lock_path = path.with_name(path.name + ".lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise StoreBusy(f"{path} is in use by another server (lock {lock_path})") from None
    return descriptor


class Store:
    """SQLite run store. Open with `Store.open(path)`; call `close()` when done."""

    def __init__(self, connection: sqlite3.Connection, path: Path, lock: int) -> None:
        self.path = path
        self._connection = connection
        self._lock = lock
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="sqlite-store", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (or create) the database and prepare it; the calling thread hands it over.

        One server per database: a second one would take the first one's active runs for
        interrupted ones, so it is refused (`StoreBusy`).
        """
        lock = _lock(path)
        try:
            connection = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
        except BaseException:
            os.close(lock)
            raise
        try:
            connection.execute("PRAGMA busy_timeout = 30000")
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"cannot switch {path} to WAL (got {mode})")
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA foreign_keys = ON")
            connection.executescript(_SCHEMA)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            connection.close()
            os.close(lock)
            raise
        return cls(connection, path, lock)

    # -- the writer thread ------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                break
            batch = [job]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    extra = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if extra is None:
                    stop = True
                    break
                batch.append(extra)
            self._apply(batch)
            if stop:
                break
        self._connection.close()
        os.close(self._lock)

    def _apply(self, batch: Sequence[_Job]) -> None:
        connection = self._connection
        outcomes: list[tuple[_Job, bool, Any]] = []
        in_transaction = any(job.write for job in batch)
        try:
            if in_transaction:
                connection.execute("BEGIN IMMEDIATE")
            for job in batch:
                connection.execute("SAVEPOINT job")
                try:
                    value = job.operation(connection)
                except Exception as exc:  # one bad operation must not sink the batch
                    connection.execute("ROLLBACK TO job")
                    connection.execute("RELEASE job")
                    outcomes.append((job, False, exc))
                else:
                    connection.execute("RELEASE job")
                    outcomes.append((job, True, value))
            if in_transaction:
                connection.execute("COMMIT")
        except Exception as exc:
            logger.exception("SQLite batch of %d operations failed", len(batch))
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            outcomes = [(job, False, exc) for job in batch]
        for job, ok, value in outcomes:
            self._resolve(job, ok, value)

    @staticmethod
    def _resolve(job: _Job, ok: bool, value: Any) -> None:
        if job.future is None or job.loop is None:
            if not ok:
                logger.error("background store operation failed: %s", value)
            return
        future = job.future

        def settle() -> None:
            if future.done():
                return
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

        try:
            job.loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the loop has closed: nobody is waiting any more
            pass

    def _submit(self, operation: Operation, *, write: bool) -> asyncio.Future[Any]:
        if self._closed:
            raise StoreClosed("the run store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._jobs.put(_Job(operation, write, loop, future))
        return future

    async def _write(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        result: T = await self._submit(operation, write=True)
        return result

    async def _read(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        result: T = await self._submit(operation, write=False)
        return result

    def _write_later(self, operation: Operation) -> None:
        """Queue a write nobody waits for; it still commits in order with everything else."""
        if not self._closed:
            self._jobs.put(_Job(operation, write=True))

    def close(self) -> None:
        """Finish every queued operation, then close the connection."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        self._thread.join()

    def run_sync(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run one write on the store thread and wait for it (for start-up, outside any loop)."""
        done = threading.Event()
        box: dict[str, Any] = {}

        def wrapped(connection: sqlite3.Connection) -> Any:
            try:
                box["value"] = operation(connection)
            finally:
                done.set()
            return box["value"]

        self._jobs.put(_Job(wrapped, write=True))
        done.wait()
        if "value" not in box:
            raise RuntimeError("store operation failed; see the log")
        result: T = box["value"]
        return result

    # -- operations ---------------------------------------------------------------------------

    async def insert_run(
        self,
        *,
        run_id: str,
        workflow_id: str,
        session_id: str,
        user_id: str | None,
        message: str,
        steps: Sequence[NewStep],
    ) -> RunRecord:
        def insert(connection: sqlite3.Connection) -> RunRecord:
            now = _stamp(utcnow())
            connection.execute(
                "INSERT INTO runs (run_id, workflow_id, session_id, user_id, input, status,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'PENDING', ?, ?)",
                (run_id, workflow_id, session_id, user_id, message, now, now),
            )
            connection.executemany(
                "INSERT INTO steps (run_id, position, name, grp, status)"
                " VALUES (?, ?, ?, ?, 'PENDING')",
                [(run_id, index, step.name, step.group) for index, step in enumerate(steps)],
            )
            record = _select_run(connection, run_id)
            assert record is not None
            return record

        return await self._write(insert)

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

        def change(connection: sqlite3.Connection) -> RunStatus | None:
            _compare_and_set(connection, run_id, allowed, target, content=content, error=error)
            return _select_status(connection, run_id)

        return await self._write(change)

    async def close_steps(
        self, run_id: str, target: RunStatus, *, include_running: bool = False
    ) -> None:
        """Give every step that never started (and optionally every running one) `target`."""
        statuses = ("PENDING", "RUNNING") if include_running else ("PENDING",)

        def close(connection: sqlite3.Connection) -> None:
            marks = ", ".join("?" for _ in statuses)
            connection.execute(
                f"UPDATE steps SET status = ?, finished_at = ? "  # noqa: S608 - placeholders only
                f"WHERE run_id = ? AND status IN ({marks})",
                (target.value, _stamp(utcnow()), run_id, *statuses),
            )

        await self._write(close)

    def step_started(self, run_id: str, position: int) -> None:
        started = _stamp(utcnow())
        self._write_later(
            lambda connection: connection.execute(
                "UPDATE steps SET status = 'RUNNING', started_at = ? "
                "WHERE run_id = ? AND position = ? AND status = 'PENDING'",
                (started, run_id, position),
            )
        )

    def step_progress(self, run_id: str, position: int, progress: int) -> None:
        value = max(0, min(100, progress))
        self._write_later(
            lambda connection: connection.execute(
                "UPDATE steps SET progress = max(progress, ?) "
                "WHERE run_id = ? AND position = ? AND status = 'RUNNING'",
                (value, run_id, position),
            )
        )

    async def step_finished(
        self, run_id: str, position: int, status: RunStatus, *, cleaned_up: bool
    ) -> None:
        finished = _stamp(utcnow())

        def finish(connection: sqlite3.Connection) -> None:
            connection.execute(
                "UPDATE steps SET status = ?, cleaned_up = ?, finished_at = ?, "
                "progress = CASE WHEN ? = 'COMPLETED' THEN 100 ELSE progress END "
                "WHERE run_id = ? AND position = ?",
                (status.value, int(cleaned_up), finished, status.value, run_id, position),
            )

        await self._write(finish)

    def interrupt_active_runs_sync(self, reason: str) -> int:
        """Every PENDING/RUNNING run (and its open steps) becomes ERROR: used at start-up."""
        return self.run_sync(lambda connection: _interrupt(connection, reason))

    async def interrupt_active_runs(self, reason: str) -> int:
        return await self._write(lambda connection: _interrupt(connection, reason))


def _compare_and_set(
    connection: sqlite3.Connection,
    run_id: str,
    allowed: Collection[RunStatus],
    target: RunStatus,
    *,
    content: str | None = None,
    error: str | None = None,
) -> bool:
    now = _stamp(utcnow())
    finished = now if target in TERMINAL else None
    statuses = [status.value for status in allowed]
    marks = ", ".join("?" for _ in statuses)
    cursor = connection.execute(
        "UPDATE runs SET status = ?, updated_at = ?, "  # noqa: S608 - placeholders only
        "finished_at = coalesce(?, finished_at), "
        "content = coalesce(?, content), error = coalesce(?, error) "
        f"WHERE run_id = ? AND status IN ({marks})",
        (target.value, now, finished, content, error, run_id, *statuses),
    )
    return cursor.rowcount == 1


def _interrupt(connection: sqlite3.Connection, reason: str) -> int:
    now = _stamp(utcnow())
    ids = [
        row[0]
        for row in connection.execute(
            "SELECT run_id FROM runs WHERE status IN ('PENDING', 'RUNNING')"
        )
    ]
    for run_id in ids:
        connection.execute(
            "UPDATE runs SET status = 'ERROR', error = ?, updated_at = ?, finished_at = ? "
            "WHERE run_id = ?",
            (reason, now, now, run_id),
        )
        connection.execute(
            "UPDATE steps SET status = 'ERROR', finished_at = ? "
            "WHERE run_id = ? AND status IN ('PENDING', 'RUNNING')",
            (now, run_id),
        )
    return len(ids)


def _select_status(connection: sqlite3.Connection, run_id: str) -> RunStatus | None:
    row = connection.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    return RunStatus(row[0]) if row is not None else None


def _select_run(connection: sqlite3.Connection, run_id: str) -> RunRecord | None:
    row = connection.execute(
        "SELECT run_id, workflow_id, session_id, user_id, input, status, content, error,"
        " created_at, updated_at, finished_at FROM runs WHERE run_id = ?",
        (run_id,),
    ).fetchone()
    if row is None:
        return None
    steps = tuple(
        StepRecord(
            position=step[0],
            name=step[1],
            group=step[2],
            status=RunStatus(step[3]),
            progress=step[4],
            cleaned_up=bool(step[5]),
            started_at=_moment(step[6]),
            finished_at=_moment(step[7]),
        )
        for step in connection.execute(
            "SELECT position, name, grp, status, progress, cleaned_up, started_at, finished_at"
            " FROM steps WHERE run_id = ? ORDER BY position",
            (run_id,),
        )
    )
    created = _moment(row[8])
    updated = _moment(row[9])
    assert created is not None and updated is not None
    return RunRecord(
        run_id=row[0],
        workflow_id=row[1],
        session_id=row[2],
        user_id=row[3],
        input=row[4],
        status=RunStatus(row[5]),
        content=row[6],
        error=row[7],
        created_at=created,
        updated_at=updated,
        finished_at=_moment(row[10]),
        steps=steps,
    )
