"""Schema versions are read and upgraded: a database of the single-process store still serves."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from reference.schema import MIGRATIONS, SCHEMA_VERSION
from tests.conftest import run_contract
from tests.support.reference_server import ReferenceServer

NOW = "2026-01-01T00:00:00+00:00"


def version_1_database(path: Path) -> None:
    """What the store wrote before schema_version existed: its tables, PRAGMA user_version 1."""
    with sqlite3.connect(path) as raw:
        for statement in MIGRATIONS[1]:
            raw.execute(statement)
        raw.execute("PRAGMA user_version = 1")
        raw.execute(
            "INSERT INTO runs (run_id, workflow_id, session_id, input, status, content,"
            " created_at, updated_at, finished_at)"
            " VALUES ('old-done', 'demo-sequential', 's1', 'hi', 'COMPLETED', 'result', ?, ?, ?)",
            (NOW, NOW, NOW),
        )
        raw.execute(
            "INSERT INTO runs (run_id, workflow_id, session_id, input, status,"
            " created_at, updated_at) VALUES ('old-live', 'demo-sequential', 's2', 'hi',"
            " 'RUNNING', ?, ?)",
            (NOW, NOW),
        )
        raw.execute(
            "INSERT INTO steps (run_id, position, name, status) VALUES"
            " ('old-done', 0, 'prepare', 'COMPLETED'), ('old-live', 0, 'prepare', 'RUNNING')"
        )


def test_a_version_1_database_is_migrated_and_its_runs_read_back(tmp_path: Path) -> None:
    db = tmp_path / "agentos.db"
    version_1_database(db)
    with ReferenceServer(db, tmp_path / "server.log") as server, server.client() as client:
        done = client.get("/workflows/demo-sequential/runs/old-done").json()
        live = client.get("/workflows/demo-sequential/runs/old-live").json()
        fresh = client.post(
            "/workflows/demo-sequential/runs", data={"message": "new", "stream": "false"}
        )
    assert done["status"] == "COMPLETED" and done["content"] == "result"
    assert live["status"] == "ERROR"  # active when the old server stopped: interrupted
    assert fresh.status_code == 200 and fresh.json()["status"] == "COMPLETED"
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        columns = {row[1] for row in raw.execute("PRAGMA table_info(runs)")}
    assert "owner" in columns


def test_a_database_from_a_newer_server_is_refused_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "agentos.db"
    version_1_database(db)
    with sqlite3.connect(db) as raw:
        raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        raw.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))
    result = run_contract("serve", "--token", "t", "--db", db)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"schema version {SCHEMA_VERSION + 1}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_database_url_of_another_kind_is_refused_in_one_line() -> None:
    result = run_contract("serve", "--token", "t", "--db", "mysql://user:secret@localhost/x")
    assert result.returncode == 2
    assert "unsupported database" in result.stderr
    assert "secret" not in result.stderr


def test_an_unreachable_postgresql_is_one_line_exit_2_without_the_password() -> None:
    from generator.launch import free_port

    url = f"postgresql://agentos:hunter2@127.0.0.1:{free_port()}/agentos"
    result = run_contract("serve", "--token", "t", "--db", url)
    assert result.returncode == 2
    assert result.stderr.startswith("contract serve: cannot open the run database postgresql://")
    assert "Connection refused" in result.stderr
    assert "hunter2" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
