"""Durable state: what a run reads back as after the server restarts on the same SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx

from tests.support.reference_server import ReferenceServer, poll

RESEARCH = ("research-web", "research-papers", "research-code")


def start_background(client: httpx.Client) -> str:
    response = client.post(
        "/workflows/demo-parallel/runs", data={"message": "restart", "background": "true"}
    )
    assert response.status_code == 202, response.text
    run_id: str = response.json()["run_id"]
    return run_id


def read_run(client: httpx.Client, run_id: str, workflow_id: str = "demo-parallel") -> Any:
    response = client.get(f"/workflows/{workflow_id}/runs/{run_id}")
    assert response.status_code == 200, response.text
    return response.json()


def wait_running(client: httpx.Client, run_id: str) -> Any:
    def all_research_running(run: Any) -> bool:
        steps = {step["name"]: step["status"] for step in run["steps"]}
        return run["status"] == "RUNNING" and all(steps[n] == "RUNNING" for n in RESEARCH)

    return poll(lambda: read_run(client, run_id), all_research_running)


def test_cancelled_and_completed_runs_read_back_the_same_after_a_restart(tmp_path: Path) -> None:
    server = ReferenceServer(tmp_path / "agentos.db", tmp_path / "server.log")
    with server:
        with server.client() as client:
            cancelled_id = start_background(client)
            wait_running(client, cancelled_id)
            cancel = client.post(f"/workflows/demo-parallel/runs/{cancelled_id}/cancel")
            assert cancel.status_code == 200, cancel.text
            before = read_run(client, cancelled_id)
            assert before["status"] == "CANCELLED"
            completed = client.post(
                "/workflows/demo-sequential/runs", data={"message": "done", "stream": "false"}
            )
            assert completed.status_code == 200
            assert completed.json()["status"] == "COMPLETED"
        server.restart()
        with server.client() as client:
            after = read_run(client, cancelled_id)
            assert after == before  # still CANCELLED, every step as it was
            steps = {step["name"]: step for step in after["steps"]}
            assert all(
                steps[n]["status"] == "CANCELLED" and steps[n]["cleaned_up"] for n in RESEARCH
            )
            again = read_run(client, completed.json()["run_id"], "demo-sequential")
            assert again == completed.json()
            # Idempotent across restarts too; a completed run stays not cancellable.
            repeat = client.post(f"/workflows/demo-parallel/runs/{cancelled_id}/cancel")
            assert repeat.status_code == 200 and repeat.json()["status"] == "CANCELLED"
            finished = client.post(f"/workflows/demo-sequential/runs/{again['run_id']}/cancel")
            assert finished.status_code == 400
            assert finished.json()["error_code"] == "RUN_NOT_ACTIVE"
    assert "database is locked" not in server.log_text()


def test_a_run_active_when_the_process_is_killed_reads_back_as_error(tmp_path: Path) -> None:
    db = tmp_path / "agentos.db"
    server = ReferenceServer(db, tmp_path / "server.log")
    server.start()
    try:
        with server.client() as client:
            run_id = start_background(client)
            wait_running(client, run_id)
        server.kill()  # SIGKILL: no shutdown hook, the database says RUNNING
        with sqlite3.connect(db) as raw:
            (status,) = raw.execute(
                "SELECT status FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
        assert status == "RUNNING"

        server.start()
        with server.client() as client:
            run = read_run(client, run_id)
            assert run["status"] == "ERROR"
            assert "interrupted" in run["error"]
            assert run["finished_at"] is not None
            assert {step["status"] for step in run["steps"]} == {"ERROR"}
            cancel = client.post(f"/workflows/demo-parallel/runs/{run_id}/cancel")
            assert cancel.status_code == 400
            assert cancel.json()["error_code"] == "RUN_NOT_ACTIVE"
    finally:
        server.stop()


def test_a_graceful_shutdown_cleans_up_and_records_active_runs_as_error(tmp_path: Path) -> None:
    server = ReferenceServer(tmp_path / "agentos.db", tmp_path / "server.log")
    server.start()
    try:
        with server.client() as client:
            run_id = start_background(client)
            wait_running(client, run_id)
        server.stop()  # SIGTERM; uvicorn re-raises it after its graceful shutdown
        assert "Application shutdown complete" in server.log_text()
        server.start()
        with server.client() as client:
            run = read_run(client, run_id)
        assert run["status"] == "ERROR"
        assert "shut down" in run["error"]
        steps = {step["name"]: step for step in run["steps"]}
        for name in RESEARCH:
            assert steps[name]["status"] == "ERROR"
            assert steps[name]["cleaned_up"] is True  # the steps' cleanup ran before exit
        assert steps["summarise"]["started_at"] is None
    finally:
        server.stop()
