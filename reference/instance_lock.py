"""One `contract serve` per SQLite file: its workers share the file, a second instance may not.

A second instance would find the first one's active runs and, with no lease of its own to go by
at start-up, take them for interrupted ones; so it is refused (`StoreBusy`). PostgreSQL has no
such limit: instances tell live runs from dead ones by their leases.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path


class StoreBusy(OSError):
    """Another instance serves from this database: its runs are not ours to recover."""


class InstanceLock:
    """An exclusive lock on `<db>.lock`, held until `release()` or the process ends."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor: int | None = descriptor

    @classmethod
    def take(cls, database: Path) -> InstanceLock:
        lock_path = database.with_name(database.name + ".lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise StoreBusy(f"{database} is in use by another server (lock {lock_path})") from None
        return cls(descriptor)

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


class WriterLock:
    """The turn to write to a SQLite file, taken by every writer of every worker process.

    SQLite's own busy handler retries with sleeps of up to 100 ms: with several processes
    writing back to back, one of them can wait for seconds. `flock` wakes a waiter as soon as
    the lock is released. Each `WriterLock` opens the lock file itself, so two of them conflict
    even inside one process; within one, the caller takes turns (one `acquire` at a time).
    """

    def __init__(self, database: Path) -> None:
        self._descriptor = os.open(
            database.with_name(database.name + ".writer"), os.O_RDWR | os.O_CREAT, 0o600
        )

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        waiting = loop.run_in_executor(None, fcntl.flock, self._descriptor, fcntl.LOCK_EX)
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            await waiting  # taken after all: give it back before giving up
            self.release()
            raise

    def release(self) -> None:
        fcntl.flock(self._descriptor, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._descriptor)
