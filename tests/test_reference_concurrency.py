"""200 runs started and cancelled concurrently: all CANCELLED, durably, no lock errors."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.reference_server import ReferenceServer

# Hundreds of requests against a real server, killed and restarted.
pytestmark = pytest.mark.slow

RUNS = 200
RACE_STEP_SECONDS = 1.0
RACE_RUNS = 100  # enough to land cancels on every phase of a run; more only slows the client


async def start_then_cancel(client: httpx.AsyncClient) -> tuple[str, httpx.Response]:
    started = await client.post(
        "/workflows/demo-parallel/runs", data={"message": "load", "background": "true"}
    )
    assert started.status_code == 202, started.text
    run_id: str = started.json()["run_id"]
    return run_id, await client.post(f"/workflows/demo-parallel/runs/{run_id}/cancel")


def clients(server: ReferenceServer, connections: int) -> list[httpx.AsyncClient]:
    """Clients of at most 50 connections each: httpx slows down badly with one large pool."""
    headers = {"Authorization": f"Bearer {server.token}"}
    count = -(-connections // 50)
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    return [
        httpx.AsyncClient(base_url=server.url, headers=headers, limits=limits, timeout=60.0)
        for _ in range(count)
    ]


async def start_and_cancel_all(server: ReferenceServer) -> list[tuple[str, httpx.Response]]:
    pool = clients(server, RUNS)
    try:
        return await asyncio.gather(
            *(start_then_cancel(pool[index % len(pool)]) for index in range(RUNS))
        )
    finally:
        for client in pool:
            await client.aclose()


async def read_all(server: ReferenceServer, run_ids: list[str]) -> list[Any]:
    pool = clients(server, len(run_ids))
    try:
        responses = await asyncio.gather(
            *(
                pool[index % len(pool)].get(f"/workflows/demo-parallel/runs/{run_id}")
                for index, run_id in enumerate(run_ids)
            )
        )
    finally:
        for client in pool:
            await client.aclose()
    assert all(response.status_code == 200 for response in responses)
    return [response.json() for response in responses]


def assert_cancelled_and_clean(run: Any) -> None:
    assert run["status"] == "CANCELLED", run
    for step in run["steps"]:
        assert step["status"] == "CANCELLED", run
        assert step["finished_at"] is not None, run
        if step["started_at"] is not None:  # a step that started was stopped and cleaned up
            assert step["cleaned_up"] is True, run
    summarise = run["steps"][-1]
    assert summarise["name"] == "summarise" and summarise["started_at"] is None, run


def test_200_concurrent_starts_and_cancels_all_end_cancelled(tmp_path: Path) -> None:
    server = ReferenceServer(tmp_path / "agentos.db", tmp_path / "server.log")
    server.start()
    try:
        outcomes = asyncio.run(start_and_cancel_all(server))
        run_ids = [run_id for run_id, _ in outcomes]
        assert len(set(run_ids)) == RUNS
        answered = []
        for run_id, cancel in outcomes:
            assert cancel.status_code == 200, cancel.text
            assert cancel.json()["run_id"] == run_id
            assert_cancelled_and_clean(cancel.json())
            answered.append(cancel.json())

        # Kill at once: each cancel (and its steps' cleanup) was committed before its 200, so
        # after the restart every run reads back exactly as its cancel answered it: no lost
        # update, and none flipped to ERROR by the restart recovery.
        server.kill()
        server.start()
        assert asyncio.run(read_all(server, run_ids)) == answered
    finally:
        server.stop()
    log = server.log_text()
    assert "database is locked" not in log
    assert "Traceback" not in log
    assert '" 500' not in log


async def start_then_cancel_soon(
    client: httpx.AsyncClient, delay: float
) -> tuple[str, httpx.Response]:
    started = await client.post(
        "/workflows/demo-parallel/runs", data={"message": "race", "background": "true"}
    )
    assert started.status_code == 202, started.text
    run_id: str = started.json()["run_id"]
    await asyncio.sleep(delay)
    return run_id, await client.post(f"/workflows/demo-parallel/runs/{run_id}/cancel")


async def race_cancels_against_completion(server: ReferenceServer) -> list[Any]:
    # With RACE_STEP_SECONDS steps, cancels spread over twice that land before, during and
    # after the steps, and some right between the last step and the run's completion.
    delays = [2 * RACE_STEP_SECONDS * index / RACE_RUNS for index in range(RACE_RUNS)]
    pool = clients(server, RACE_RUNS)
    try:
        return await asyncio.gather(
            *(
                start_then_cancel_soon(pool[index % len(pool)], delay)
                for index, delay in enumerate(delays)
            )
        )
    finally:
        for client in pool:
            await client.aclose()


def test_a_cancel_racing_a_completion_never_loses_either(tmp_path: Path) -> None:
    env = {"AGENTOS_DEMO_STEP_SECONDS": str(RACE_STEP_SECONDS)}
    server = ReferenceServer(tmp_path / "agentos.db", tmp_path / "server.log", env=env)
    server.start()
    try:
        outcomes = asyncio.run(race_cancels_against_completion(server))
        expected: dict[str, str] = {}
        for run_id, cancel in outcomes:
            if cancel.status_code == 200:
                expected[run_id] = "CANCELLED"
            else:
                assert cancel.status_code == 400, cancel.text
                assert cancel.json()["error_code"] == "RUN_NOT_ACTIVE"
                expected[run_id] = "COMPLETED"
        server.kill()
        server.start()
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers) as client:
            for run_id, status in expected.items():
                run = client.get(f"/workflows/demo-parallel/runs/{run_id}").json()
                # The answer a client got is the final truth: a 200 stays CANCELLED, a 400
                # means it had completed; a completion never overwrites a committed cancel.
                assert run["status"] == status, run
                if status == "COMPLETED":
                    assert {step["status"] for step in run["steps"]} == {"COMPLETED"}
                else:
                    assert all(step["status"] != "RUNNING" for step in run["steps"]), run
    finally:
        server.stop()
    assert "database is locked" not in server.log_text()
