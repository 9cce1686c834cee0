"""Where runs are stored: `--db` as a SQLAlchemy URL, and the async engine tuned for it.

A SQLite path (the embedded default) is one host: its workers share the file, in WAL mode, with
every write transaction `BEGIN IMMEDIATE` so two writers queue on SQLite's lock instead of failing
half-way with "database is locked". `postgresql://...` is any number of hosts. Connections are not
pinged before use (a round trip per transaction): a disconnect invalidates the whole pool and the
store retries the transaction on a new connection (reference.store), so a restarted PostgreSQL
costs one failed attempt, not a broken pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
SQLITE_BUSY_MS = 30_000
POOL_SIZE = 10
POOL_OVERFLOW = 20


class UnusableDatabase(ValueError):
    """`--db` names no database this server can use; the message is one line."""


@dataclass(frozen=True, slots=True)
class Database:
    """A run database: its URL and which of the two kinds it is."""

    url: URL

    @classmethod
    def from_arg(cls, value: str | Path) -> Database:
        """A SQLite path, `sqlite:///path`, or `postgresql://user:password@host:port/name`."""
        text = str(value)
        if "://" not in text:
            return cls(URL.create("sqlite+aiosqlite", database=text))
        try:
            url = make_url(text)
        except ArgumentError:
            raise UnusableDatabase(f"{_safe(text)} is not a database URL") from None
        if url.drivername in POSTGRES_SCHEMES:
            return cls(url.set(drivername="postgresql+psycopg"))
        if url.drivername in ("sqlite", "sqlite+aiosqlite") and url.database:
            return cls(url.set(drivername="sqlite+aiosqlite"))
        raise UnusableDatabase(
            f"unsupported database {url.drivername!r}: use a SQLite path or postgresql://..."
        )

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def path(self) -> Path:
        """The SQLite file (SQLite only)."""
        assert self.is_sqlite and self.url.database
        return Path(self.url.database)

    @property
    def conninfo(self) -> str:
        """The libpq connection string, for psycopg's own LISTEN connection (PostgreSQL only)."""
        return self.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def __str__(self) -> str:
        if self.is_sqlite:
            return str(self.path)
        return self.url.set(drivername="postgresql").render_as_string(hide_password=True)

    def engine(self, *, pool_size: int = POOL_SIZE, overflow: int = POOL_OVERFLOW) -> AsyncEngine:
        """A new engine; bind it to one event loop and `dispose()` it there."""
        if self.is_sqlite:
            return _sqlite_engine(self.url)
        return create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=overflow,
            pool_timeout=60,
            connect_args={"connect_timeout": 10},
        )


def _sqlite_engine(url: URL) -> AsyncEngine:
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def prepare(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling off: `begin` below says how each one starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            mode = cursor.fetchone()[0]
            if str(mode).lower() != "wal":
                raise UnusableDatabase(f"cannot switch {url.database} to WAL (got {mode})")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def begin(connection: Any) -> None:
        mode = "IMMEDIATE" if connection.get_execution_options().get("writing") else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _safe(text: str) -> str:
    """A URL for a message: no password, no control characters, bounded."""
    if "@" in text:
        scheme, _, rest = text.partition("://")
        text = f"{scheme}://***@{rest.rpartition('@')[2]}"
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:200]
