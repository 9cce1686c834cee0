"""Many workers, many hosts, one database: a cancel works wherever it lands.

Two `contract serve` processes on 127.0.0.1 stand for two hosts sharing one real PostgreSQL
(tests/support/postgres.py); `--workers 2` on SQLite stands for the workers of one host.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.support.postgres import PostgresServer
from tests.support.reference_server import ReferenceServer, poll

pytestmark = pytest.mark.slow

RUNS = 200
WORKFLOW = "demo-parallel"
RESEARCH = ("research-web", "research-papers", "research-code")
LEASE_SECONDS = "4"
OPEN = ("PENDING", "RUNNING")


def clients(server: ReferenceServer, count: int) -> list[httpx.AsyncClient]:
    """Several small pools: httpx slows down badly with one large one."""
    headers = {"Authorization": f"Bearer {server.token}"}
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    return [
        httpx.AsyncClient(base_url=server.url, headers=headers, limits=limits, timeout=60.0)
        for _ in range(max(1, -(-count // 50)))
    ]


async def start_runs(server: ReferenceServer, count: int, workflow: str = WORKFLOW) -> list[str]:
    pool = clients(server, count)
    try:
        replies = await asyncio.gather(
            *(
                pool[i % len(pool)].post(
                    f"/workflows/{workflow}/runs", data={"message": f"m{i}", "background": "true"}
                )
                for i in range(count)
            )
        )
    finally:
        for client in pool:
            await client.aclose()
    assert all(reply.status_code == 202 for reply in replies), {r.status_code for r in replies}
    return [str(reply.json()["run_id"]) for reply in replies]


async def cancel_runs(server: ReferenceServer, run_ids: list[str]) -> list[httpx.Response]:
    pool = clients(server, len(run_ids))
    try:
        return await asyncio.gather(
            *(
                pool[i % len(pool)].post(f"/workflows/{WORKFLOW}/runs/{run_id}/cancel")
                for i, run_id in enumerate(run_ids)
            )
        )
    finally:
        for client in pool:
            await client.aclose()


async def read_runs(
    server: ReferenceServer, run_ids: list[str], workflow: str = WORKFLOW
) -> list[Any]:
    pool = clients(server, len(run_ids))
    try:
        replies = await asyncio.gather(
            *(
                pool[i % len(pool)].get(f"/workflows/{workflow}/runs/{run_id}")
                for i, run_id in enumerate(run_ids)
            )
        )
    finally:
        for client in pool:
            await client.aclose()
    assert all(reply.status_code == 200 for reply in replies)
    return [reply.json() for reply in replies]


def research_running(run: Any) -> bool:
    steps = {step["name"]: step["status"] for step in run["steps"]}
    return run["status"] == "RUNNING" and all(steps[name] == "RUNNING" for name in RESEARCH)


def assert_stopped_by_cancel(run: Any) -> None:
    """CANCELLED, no step left open, every step that started cleaned up, nothing started after."""
    assert run["status"] == "CANCELLED", run
    steps = {step["name"]: step for step in run["steps"]}
    assert all(step["status"] == "CANCELLED" for step in steps.values()), run
    for name in RESEARCH:
        assert steps[name]["cleaned_up"] is True, run
        assert steps[name]["finished_at"] is not None, run
    assert steps["summarise"]["started_at"] is None, run


@pytest.fixture()
def two_hosts(postgres: PostgresServer, tmp_path: Path) -> Iterator[tuple[ReferenceServer, ...]]:
    url = postgres.create_database()
    # Polling only every 30 s: within a cancel's 10 s wait, only LISTEN/NOTIFY can deliver it.
    env = {"AGENTOS_LEASE_SECONDS": LEASE_SECONDS, "AGENTOS_POLL_SECONDS": "30"}
    a = ReferenceServer(url, tmp_path / "a.log", env=env)
    b = ReferenceServer(url, tmp_path / "b.log", env=env)
    a.start()
    try:
        b.start()
        try:
            yield a, b
        finally:
            b.stop()
    finally:
        a.stop()


def test_runs_started_on_one_host_and_cancelled_on_the_other_all_stop(
    two_hosts: tuple[ReferenceServer, ReferenceServer],
) -> None:
    a, b = two_hosts
    run_ids = asyncio.run(start_runs(a, RUNS))
    with a.client() as client:
        poll(
            lambda: client.get(f"/workflows/{WORKFLOW}/runs/{run_ids[-1]}").json(),
            research_running,
            timeout=60,
        )
    cancels = asyncio.run(cancel_runs(b, run_ids))
    assert [reply.status_code for reply in cancels] == [200] * RUNS
    for reply in cancels:  # the 200 itself says every step has stopped, on the other host
        assert_stopped_by_cancel(reply.json())
    for run in asyncio.run(read_runs(a, run_ids)):  # and A, which ran them, reads the same
        assert_stopped_by_cancel(run)
    for server in (a, b):
        assert "Traceback" not in server.log_text()
        assert "has not stopped it" not in server.log_text()  # A stopped each one itself


def test_a_stream_open_on_one_host_ends_with_workflow_cancelled_when_the_other_cancels(
    two_hosts: tuple[ReferenceServer, ReferenceServer],
) -> None:
    a, b = two_hosts
    with a.client() as streaming, b.client() as other:
        with streaming.stream(
            "POST", f"/workflows/{WORKFLOW}/runs", data={"message": "m"}
        ) as reply:
            assert reply.status_code == 200
            assert reply.headers["content-type"].startswith("text/event-stream")
            names: list[str] = []
            run_id = ""
            lines = reply.iter_lines()
            for line in lines:
                if line.startswith("event: "):
                    names.append(line.removeprefix("event: "))
                elif line.startswith("data: ") and not run_id:
                    run_id = json.loads(line.removeprefix("data: "))["run_id"]
                if names.count("StepStarted") == len(RESEARCH):
                    break  # every parallel step is working, on A
            cancel = other.post(f"/workflows/{WORKFLOW}/runs/{run_id}/cancel")
            assert cancel.status_code == 200, cancel.text
            assert_stopped_by_cancel(cancel.json())
            names += [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
    assert names[-1] == "WorkflowCancelled", names  # A ended the stream it held
    assert "StepCompleted" not in names and "WorkflowCompleted" not in names


def test_runs_of_a_killed_host_read_error_on_the_other_within_the_lease(
    two_hosts: tuple[ReferenceServer, ReferenceServer],
) -> None:
    a, b = two_hosts
    run_ids = asyncio.run(start_runs(a, 10))
    with b.client() as client:
        poll(
            lambda: client.get(f"/workflows/{WORKFLOW}/runs/{run_ids[-1]}").json(),
            research_running,
            timeout=60,
        )
        a.kill()  # SIGKILL: nothing of A's runs; B must find them by A's lapsed lease

        def all_error(runs: list[Any]) -> bool:
            return all(run["status"] == "ERROR" for run in runs)

        runs = poll(lambda: asyncio.run(read_runs(b, run_ids)), all_error, timeout=20)
    for run in runs:
        assert "lease" in run["error"]
        assert run["finished_at"] is not None
        assert {step["status"] for step in run["steps"]} == {"ERROR"}


def test_a_postgresql_restart_mid_load_loses_no_committed_run(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.create_database()
    env = {"AGENTOS_DEMO_STEP_SECONDS": "1.5", "AGENTOS_LEASE_SECONDS": "10"}
    with ReferenceServer(url, tmp_path / "a.log", env=env) as a:
        before = asyncio.run(start_runs(a, 40))
        postgres.restart()  # as a crash would: no checkpoint, WAL replayed
        after = asyncio.run(start_runs(a, 40))  # the pool reconnects; writes are retried
        run_ids = before + after

        def finished(runs: list[Any]) -> bool:
            return all(run["status"] not in OPEN for run in runs)

        runs = poll(lambda: asyncio.run(read_runs(a, run_ids)), finished, timeout=60)
    assert "LISTEN connection lost" in a.log_text()  # the database did go away under the server
    assert [run["run_id"] for run in runs] == run_ids  # every accepted run is still there
    assert {run["status"] for run in runs} == {"COMPLETED"}
    with psycopg.connect(url) as connection:
        (count,) = connection.execute("SELECT count(*) FROM runs").fetchone() or (0,)
    assert count == len(run_ids)


async def start_and_cancel_at_once(server: ReferenceServer, count: int) -> list[Any]:
    """Each request on a connection of its own (`Connection: close`), so on either worker."""
    headers = {"Authorization": f"Bearer {server.token}", "Connection": "close"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as client:

        async def one(index: int) -> Any:
            started = await client.post(
                f"/workflows/{WORKFLOW}/runs", data={"message": f"now{index}", "background": "true"}
            )
            assert started.status_code == 202, started.text
            cancel = await client.post(
                f"/workflows/{WORKFLOW}/runs/{started.json()['run_id']}/cancel"
            )
            assert cancel.status_code == 200, cancel.text
            return cancel.json()

        return await asyncio.gather(*(one(index) for index in range(count)))


def test_with_two_workers_on_sqlite_a_cancel_on_either_worker_stops_the_run(
    tmp_path: Path,
) -> None:
    db = tmp_path / "agentos.db"
    # Polling often widens the window in which a stop meets a run closing itself.
    env = {"AGENTOS_POLL_SECONDS": "0.02"}
    server = ReferenceServer(db, tmp_path / "server.log", workers=2, env=env)
    with server:
        headers = {"Authorization": f"Bearer {server.token}"}
        run_ids: list[str] = []
        replies: list[httpx.Response] = []
        for index in range(30):
            # A new connection for each request: the kernel hands each to either worker.
            started = httpx.post(
                f"{server.url}/workflows/{WORKFLOW}/runs",
                data={"message": f"m{index}", "background": "true"},
                headers=headers,
                timeout=30,
            )
            assert started.status_code == 202, started.text
            run_ids.append(started.json()["run_id"])
        with server.client() as client:
            poll(
                lambda: client.get(f"/workflows/{WORKFLOW}/runs/{run_ids[-1]}").json(),
                research_running,
                timeout=30,
            )
        for run_id in run_ids:
            replies.append(
                httpx.post(
                    f"{server.url}/workflows/{WORKFLOW}/runs/{run_id}/cancel",
                    headers=headers,
                    timeout=30,
                )
            )
        # Cancelled at once, while PENDING or just starting, on either worker, many at a time.
        for run in asyncio.run(start_and_cancel_at_once(server, 60)):
            assert run["status"] == "CANCELLED", run
            assert {step["status"] for step in run["steps"]} == {"CANCELLED"}, run
    assert [reply.status_code for reply in replies] == [200] * len(run_ids)
    for reply in replies:
        assert_stopped_by_cancel(reply.json())
    # Every owner stopped its runs itself: no cancel had to give up waiting for it.
    assert "has not stopped it" not in server.log_text()
    with sqlite3.connect(db) as raw:
        owners = {row[0] for row in raw.execute("SELECT owner FROM runs")}
    assert len(owners) == 2  # both workers ran some: so cancels crossed workers too


def test_a_killed_worker_s_runs_read_error_and_the_other_worker_s_keep_running(
    tmp_path: Path,
) -> None:
    db = tmp_path / "agentos.db"
    env = {"AGENTOS_LEASE_SECONDS": LEASE_SECONDS}
    server = ReferenceServer(db, tmp_path / "server.log", workers=2, env=env)
    with server:
        headers = {"Authorization": f"Bearer {server.token}", "Connection": "close"}
        run_ids: list[str] = []

        def owners() -> dict[str, list[str]]:
            with sqlite3.connect(db) as raw:
                rows = raw.execute("SELECT owner, run_id FROM runs").fetchall()
            found: dict[str, list[str]] = {}
            for owner, run_id in rows:
                found.setdefault(owner, []).append(run_id)
            return found

        while len(owners()) < 2 and len(run_ids) < 100:  # until both workers have runs
            started = httpx.post(
                f"{server.url}/workflows/{WORKFLOW}/runs",
                data={"message": "kill", "background": "true"},
                headers=headers,
                timeout=30,
            )
            assert started.status_code == 202, started.text
            run_ids.append(started.json()["run_id"])
        by_owner = owners()
        assert len(by_owner) == 2
        with sqlite3.connect(db) as raw:
            pids = dict(raw.execute("SELECT owner, pid FROM workers").fetchall())
        victim, survivor = sorted(by_owner)
        os.kill(pids[victim], signal.SIGKILL)  # one worker dies; uvicorn starts another

        def status_of(run_id: str) -> Any:
            with server.client() as client:
                return client.get(f"/workflows/{WORKFLOW}/runs/{run_id}").json()

        for run_id in by_owner[victim]:
            run = poll(
                lambda run_id=run_id: status_of(run_id),
                lambda r: r["status"] == "ERROR",
                timeout=20,
            )
            assert "lease" in run["error"]
        for run_id in by_owner[survivor]:
            assert status_of(run_id)["status"] == "RUNNING"


def test_runs_that_lost_their_task_while_postgresql_was_down_read_error_not_running(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.create_database()
    env = {
        "AGENTOS_DEMO_STEP_SECONDS": "1",
        "AGENTOS_LEASE_SECONDS": LEASE_SECONDS,
        "AGENTOS_DB_RETRY_SECONDS": "0.5",  # writes give up long before the database is back
    }
    with ReferenceServer(url, tmp_path / "a.log", env=env) as a:
        run_ids = asyncio.run(start_runs(a, 20))
        postgres.stop("immediate")
        time.sleep(3)  # the runs' steps end meanwhile; recording that fails past the retries
        postgres.start()

        def finished(runs: list[Any]) -> bool:
            return all(run["status"] not in OPEN for run in runs)

        runs = poll(lambda: asyncio.run(read_runs(a, run_ids)), finished, timeout=30)
    assert {run["status"] for run in runs} <= {"COMPLETED", "ERROR"}
    assert any(run["status"] == "ERROR" and "lost it" in run["error"] for run in runs), runs
