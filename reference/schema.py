"""The run tables, and the migrations that bring any older database up to `SCHEMA_VERSION`.

The version lives in `schema_version` (one row). A database written before that table existed
(the single-process SQLite store) is version 1: it kept its version in `PRAGMA user_version` and
had `runs` and `steps` only. `migrate` reads the version in a transaction that holds the
database's write lock (SQLite `BEGIN IMMEDIATE`, a PostgreSQL advisory lock), applies each missing
step in order and records the new version, so two workers starting at once migrate once.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, Float, Integer, MetaData, Table, Text, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

SCHEMA_VERSION = 2
# Any fixed number: the key of the advisory lock migrations take on PostgreSQL.
MIGRATION_LOCK = 815_015

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("run_id", Text, primary_key=True),
    Column("workflow_id", Text, nullable=False),
    Column("session_id", Text, nullable=False),
    Column("user_id", Text),
    Column("input", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("content", Text),
    Column("error", Text),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("finished_at", Text),
    Column("owner", Text),  # the worker executing it (version 2)
)

steps = Table(
    "steps",
    metadata,
    Column("run_id", Text, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("grp", Text),
    Column("status", Text, nullable=False),
    Column("progress", Integer, nullable=False),
    Column("cleaned_up", Integer, nullable=False),
    Column("started_at", Text),
    Column("finished_at", Text),
)

# One row per live worker: it renews `expires_at` (seconds since the epoch) while it runs.
workers = Table(
    "workers",
    metadata,
    Column("owner", Text, primary_key=True),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),
)

_STATUS_CHECK = "CHECK (status IN ('PENDING', 'RUNNING', 'COMPLETED', 'CANCELLED', 'ERROR'))"

# Version 1: the tables of the single-process store, exactly as it created them.
_V1 = (
    f"""CREATE TABLE IF NOT EXISTS runs (
        run_id      TEXT PRIMARY KEY,
        workflow_id TEXT NOT NULL,
        session_id  TEXT NOT NULL,
        user_id     TEXT,
        input       TEXT NOT NULL,
        status      TEXT NOT NULL {_STATUS_CHECK},
        content     TEXT,
        error       TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        finished_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS runs_active ON runs (status)"
    " WHERE status IN ('PENDING', 'RUNNING')",
    f"""CREATE TABLE IF NOT EXISTS steps (
        run_id      TEXT NOT NULL REFERENCES runs (run_id),
        position    INTEGER NOT NULL,
        name        TEXT NOT NULL,
        grp         TEXT,
        status      TEXT NOT NULL {_STATUS_CHECK},
        progress    INTEGER NOT NULL DEFAULT 0,
        cleaned_up  INTEGER NOT NULL DEFAULT 0,
        started_at  TEXT,
        finished_at TEXT,
        PRIMARY KEY (run_id, position)
    )""",
)

# Version 2: many workers on one database. Runs know their worker; workers hold leases.
_V2 = (
    "ALTER TABLE runs ADD COLUMN owner TEXT",
    "CREATE INDEX IF NOT EXISTS runs_owner ON runs (owner) WHERE status IN ('PENDING', 'RUNNING')",
    """CREATE TABLE IF NOT EXISTS workers (
        owner      TEXT PRIMARY KEY,
        host       TEXT NOT NULL,
        pid        INTEGER NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL
    )""",
)

MIGRATIONS: dict[int, Sequence[str]] = {1: _V1, 2: _V2}


class SchemaTooNew(ValueError):
    """The database was written by a newer server; this one will not touch it."""


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def current_version(connection: AsyncConnection) -> int:
    """The version the database is at: 0 when it is empty."""
    tables = await connection.run_sync(_tables)
    if "schema_version" in tables:
        row = (await connection.execute(text("SELECT max(version) FROM schema_version"))).first()
        return int(row[0]) if row is not None and row[0] is not None else 0
    return 1 if "runs" in tables else 0


async def migrate(connection: AsyncConnection) -> tuple[int, int]:
    """Upgrade to SCHEMA_VERSION inside the caller's write transaction; (before, after)."""
    if connection.dialect.name == "postgresql":
        await connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
    before = await current_version(connection)
    if before > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"the database is at schema version {before}; this server knows {SCHEMA_VERSION}"
        )
    for version in range(before + 1, SCHEMA_VERSION + 1):
        for statement in MIGRATIONS[version]:
            await connection.exec_driver_sql(statement)
    if before < SCHEMA_VERSION:
        await connection.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
        )
        await connection.exec_driver_sql("DELETE FROM schema_version")
        await connection.execute(
            text("INSERT INTO schema_version (version) VALUES (:version)"),
            {"version": SCHEMA_VERSION},
        )
    return before, SCHEMA_VERSION
