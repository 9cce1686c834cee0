"""`contract serve`: where the token comes from, and never serving unauthenticated."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import httpx
import pytest

from tests.conftest import run_contract
from tests.support.reference_server import ReferenceServer


def test_token_comes_from_the_environment_when_not_given(tmp_path: Path) -> None:
    env = {"CONTRACT_TOKEN": "token-from-the-environment"}
    server = ReferenceServer(tmp_path / "agentos.db", tmp_path / "server.log", token=None, env=env)
    with server:
        good = {"Authorization": "Bearer token-from-the-environment"}
        assert httpx.get(server.url + "/workflows", headers=good).status_code == 200
        assert httpx.get(server.url + "/workflows").status_code == 401
    assert "token-from-the-environment" not in server.log_text()  # not echoed when configured


def test_without_any_token_a_random_one_is_generated_printed_and_required(tmp_path: Path) -> None:
    server = ReferenceServer(tmp_path / "agentos.db", tmp_path / "server.log", token=None)
    with server:
        printed = re.search(r"Authorization: Bearer (\S+?)'", server.log_text())
        assert printed is not None, server.log_text()
        token = printed.group(1)
        assert len(token) >= 32
        assert httpx.get(server.url + "/workflows").status_code == 401
        empty = {"Authorization": "Bearer"}
        assert httpx.get(server.url + "/workflows", headers=empty).status_code == 401
        good = {"Authorization": f"Bearer {token}"}
        assert httpx.get(server.url + "/workflows", headers=good).status_code == 200


def test_an_unusable_database_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "agentos.db"
    result = run_contract("serve", "--token", "t", "--db", missing)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(missing) in result.stderr


def test_a_second_server_on_the_same_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "agentos.db"
    with ReferenceServer(db, tmp_path / "first.log") as first:
        with first.client() as client:
            started = client.post(
                "/workflows/demo-parallel/runs", data={"message": "m", "background": "true"}
            )
            assert started.status_code == 202
        second = run_contract("serve", "--token", "t", "--db", db)
        assert second.returncode == 2
        assert "in use by another server" in second.stderr
        with first.client() as client:  # its active run was not taken for an interrupted one
            run_id = started.json()["run_id"]
            run = client.get(f"/workflows/demo-parallel/runs/{run_id}").json()
            assert run["status"] in ("PENDING", "RUNNING")


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_a_port_outside_1_to_65535_is_a_usage_error(port: str, tmp_path: Path) -> None:
    result = run_contract("serve", "--port", port, "--token", "t", "--db", tmp_path / "a.db")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "argument --port:" in result.stderr.splitlines()[-1]


def test_a_taken_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_contract("serve", "--port", port, "--token", "t", "--db", tmp_path / "a.db")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"contract serve: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
