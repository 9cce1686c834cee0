"""One `contract serve` per SQLite file: its workers share the file, a second instance may not.

A second instance would find the first one's active runs and, with no lease of its own to go by
at start-up, take them for interrupted ones; so it is refused (`StoreBusy`). PostgreSQL has no
such limit: instances tell live runs from dead ones by their leases.
"""

from __future__ import annotations

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
