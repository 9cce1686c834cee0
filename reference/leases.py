"""A worker's lease: renewed while it lives; the runs of a worker whose lease lapsed become ERROR.

Every worker renews its own row every `seconds / 3` and, on the same beat, reaps the workers whose
lease has expired: their active runs read ERROR within `seconds` plus one beat of whoever is
still alive. A worker that finds its own lease already reaped (it was paused, or the database was
away for longer than the lease) takes a new one; its runs were recorded ERROR and its polling
stops them. On the same beat a worker also marks ERROR its own runs it no longer executes (their
task ended without recording an outcome because the database was away longer than the store
retries), so that no run reads RUNNING forever. Lease times are seconds since the epoch on the
workers' clocks: hosts must keep their clocks in step (NTP) to well within the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Collection
from datetime import timedelta

from .store import Store, utcnow

logger = logging.getLogger("reference.leases")

LEASE_VARIABLE = "AGENTOS_LEASE_SECONDS"
POLL_VARIABLE = "AGENTOS_POLL_SECONDS"
DEFAULT_LEASE_SECONDS = 10.0
MAX_LEASE_SECONDS = 30.0
LEASE_REASON = "interrupted: the worker running it stopped renewing its lease"
ORPHAN_REASON = "interrupted: its worker lost it while the database was unreachable"


class Lease:
    def __init__(
        self,
        store: Store,
        owner: str,
        seconds: float,
        running_here: Callable[[], Collection[str]] = tuple,
    ) -> None:
        self.store = store
        self.owner = owner
        self.seconds = seconds
        self.running_here = running_here
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self._task: asyncio.Task[None] | None = None

    @property
    def beat(self) -> float:
        return self.seconds / 3

    async def take(self) -> None:
        await self.store.take_lease(self.owner, self.host, self.pid, time.time() + self.seconds)
        self._task = asyncio.create_task(self._keep(), name="lease")

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self.beat)
            try:
                await self.renew()
                reaped = await self.store.reap_expired(LEASE_REASON)
                reaped += await self.store.interrupt_orphans(
                    self.owner,
                    self.running_here(),
                    utcnow() - timedelta(seconds=self.seconds),
                    ORPHAN_REASON,
                )
            except Exception as exc:
                logger.warning("lease renewal failed (%s); retrying", type(exc).__name__)
                continue
            if reaped:
                logger.warning("%d run(s) nobody executes any more are now ERROR", len(reaped))

    async def renew(self) -> None:
        expires = time.time() + self.seconds
        if not await self.store.renew_lease(self.owner, self.host, self.pid, expires):
            logger.error("this worker's lease had lapsed: its runs were recorded ERROR")
            await self.store.take_lease(self.owner, self.host, self.pid, expires)

    async def release(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.store.drop_lease(self.owner)


def configured_seconds(variable: str, default: float, *, maximum: float | None = None) -> float:
    """A positive number of seconds from the environment, else `default`; ValueError if bad."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{variable} must be a number of seconds, not {raw!r}") from None
    if not value > 0 or (maximum is not None and value > maximum):
        bound = f" at most {maximum:g}" if maximum is not None else ""
        raise ValueError(f"{variable} must be positive{bound}, not {raw!r}")
    return value
