"""`contract proxy` over real HTTP: in front of every broken server, the same check fires.

Each case starts a broken server from tests/broken/ with uvicorn, `contract proxy` in front of it,
and drives traffic through the proxy with `contract conform --url <proxy>` (the client could be
anything; conform's traffic reaches every corner). The proxy is stopped with SIGTERM, as a
supervisor would, and its own report must name the check that `contract conform` is known to
raise for that server (tests/test_conformance_broken.py's table), and nothing outside the checks
allowed there.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.proxy.exchange import printable
from generator.launch import ServerProcess, contract_command, free_port
from tests.support.conform import CONTRACT, TOKEN, broken_server, conform
from tests.support.server import REPO, python_path_env, uvicorn_server
from tests.test_conformance_broken import CATCH_TABLE

# The slow server is about the client's timeout, which the proxy does not have.
PROXIED = [row for row in CATCH_TABLE if row[0] != "slow"]


@dataclass
class ProxyRun:
    returncode: int
    log: str
    report: dict[str, Any]
    folder: Path

    def checks(self) -> set[str]:
        return {finding["check"] for finding in self.report["findings"]}


@contextmanager
def proxy(
    upstream: str, folder: Path, *extra: str, token: str | None = TOKEN, spec: Path = CONTRACT
) -> Iterator[tuple[str, ServerProcess]]:
    port = free_port()
    arguments = [str(spec), "--upstream", upstream, "--report", str(folder / "report"), *extra]
    if token is not None:
        arguments += ["--token", token]
    server = ServerProcess(
        [*contract_command(), "proxy", *arguments, "--port", str(port)],
        url=f"http://127.0.0.1:{port}",
        log=folder / "proxy.log",
        env=python_path_env(),
        cwd=REPO,
        start_timeout=60,
    )
    server.start()
    try:
        yield server.url, server
    finally:
        server.stop()


def stopped(server: ServerProcess, folder: Path) -> ProxyRun:
    code = server.stop()
    report = json.loads((folder / "report" / "report.json").read_text("utf-8"))
    return ProxyRun(code, server.log_text(), report, folder)


def run_through_proxy(name: str, folder: Path, *extra: str) -> ProxyRun:
    with broken_server(name) as upstream, proxy(upstream, folder, *extra) as (url, server):
        outcome = conform(url)
        assert outcome.returncode in (0, 1), outcome.stdout + outcome.stderr
        return stopped(server, folder)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("server", "check", "allowed", "extra"), PROXIED, ids=[row[0] for row in PROXIED]
)
def test_the_proxy_catches_each_broken_server_with_conforms_check(
    server: str, check: str, allowed: set[str], extra: tuple[str, ...], tmp_path: Path
) -> None:
    run = run_through_proxy(server, tmp_path)
    assert run.returncode == 1, run.log
    assert check in run.checks(), run.log
    assert run.checks() <= allowed, f"unexpected findings: {run.checks() - allowed}"
    # Printed as it happened, one line per violating exchange.
    assert f"violation: {check} · " in run.log
    assert run.report["verdict"] == "NOT CONFORMANT"
    assert (tmp_path / "report" / "junit.xml").is_file()
    assert (tmp_path / "report" / "report.md").is_file()


@pytest.mark.slow
def test_the_good_server_passes_through_the_proxy_and_the_har_has_no_token(
    tmp_path: Path,
) -> None:
    har = tmp_path / "traffic.har"
    run = run_through_proxy("good", tmp_path, "--record", str(har))
    assert run.returncode == 0, run.log
    assert run.report["findings"] == []
    assert run.report["verdict"] == "CONFORMANT"
    assert "violation:" not in run.log
    archive = json.loads(har.read_text("utf-8"))
    entries = archive["log"]["entries"]
    assert len(entries) == run.report["requests"] > 50
    statuses = {entry["response"]["status"] for entry in entries}
    assert {200, 401, 404} <= statuses
    for written in [har, *(tmp_path / "report").iterdir()]:
        assert TOKEN not in written.read_text("utf-8"), written


@pytest.mark.slow
def test_responses_come_back_unchanged(tmp_path: Path) -> None:
    with broken_server("good") as upstream, proxy(upstream, tmp_path) as (url, server):
        for path, headers in [
            ("/workflows", {"Authorization": f"Bearer {TOKEN}"}),
            ("/workflows", {}),
            ("/workflows/demo/runs/run-1/cancel", {"Authorization": f"Bearer {TOKEN}"}),
        ]:
            method = "GET" if path == "/workflows" else "POST"
            direct = httpx.request(method, upstream + path, headers=headers)
            proxied = httpx.request(method, url + path, headers=headers)
            assert proxied.status_code == direct.status_code
            assert proxied.content == direct.content
            assert proxied.headers["content-type"] == direct.headers["content-type"]
        run = stopped(server, tmp_path)
    assert run.returncode == 0, run.log
    assert run.report["requests"] == 4  # and the readiness probe's GET /openapi.json


@pytest.mark.slow
def test_strict_answers_a_violation_with_the_declared_500(tmp_path: Path) -> None:
    with broken_server("schema_mismatch") as upstream:
        with proxy(upstream, tmp_path, "--strict") as (url, server):
            headers = {"Authorization": f"Bearer {TOKEN}"}
            answer = httpx.post(f"{url}/workflows/nope/runs/run-1/cancel", headers=headers)
            fine = httpx.get(f"{url}/workflows", headers=headers)
            run = stopped(server, tmp_path)
    assert answer.status_code == 500
    assert answer.headers["x-contract-violation"] == "declared_schema"
    body = answer.json()
    assert set(body) == {"detail"}  # the declared 500 schema's required field
    assert "broke the contract" in body["detail"]
    assert fine.status_code == 200  # a conformant response goes through as it was
    assert run.checks() == {"declared_schema"}


STREAM_APP = """
import asyncio
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

async def events(request):
    async def body():
        for number in range(3):
            yield f"data: {number}\\n\\n".encode()
            await asyncio.sleep(1.0)
    return StreamingResponse(body(), media_type="text/event-stream")

def create():
    return Starlette(routes=[Route("/events", events)])
"""
STREAM_SPEC = """
openapi: 3.1.0
info: {title: Stream, version: '1'}
paths:
  /events:
    get:
      responses:
        '200':
          description: events
          content:
            text/event-stream: {}
"""


@pytest.mark.slow
def test_a_stream_is_passed_on_as_it_comes_not_buffered_whole(tmp_path: Path) -> None:
    (tmp_path / "stream_app.py").write_text(STREAM_APP, "utf-8")
    spec = tmp_path / "stream.yaml"
    spec.write_text(STREAM_SPEC, "utf-8")
    with uvicorn_server("stream_app:create", extra_paths=(tmp_path,)) as upstream:
        with proxy(upstream, tmp_path, token=None, spec=spec) as (url, server):
            arrivals: list[tuple[float, bytes]] = []
            with httpx.stream("GET", f"{url}/events", timeout=10) as response:
                for chunk in response.iter_raw():
                    arrivals.append((time.monotonic(), chunk))
            run = stopped(server, tmp_path)
    received = b"".join(chunk for _, chunk in arrivals)
    assert received == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"
    # The first event arrived while the upstream was still writing the others.
    assert len(arrivals) >= 3
    assert run.report["findings"] == []
    assert run.report["requests"] == 2  # and the readiness probe's GET /openapi.json


HOSTILE_APP = """
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

async def workflows(request):
    return Response("\\x1b[31mred\\x1b]0;title\\x07", status_code=418, media_type="text/plain")

def create():
    return Starlette(routes=[Route("/workflows", workflows)])
"""


@pytest.mark.slow
def test_nothing_raw_from_the_upstream_reaches_the_terminal(tmp_path: Path) -> None:
    (tmp_path / "hostile_app.py").write_text(HOSTILE_APP, "utf-8")
    with uvicorn_server("hostile_app:create", extra_paths=(tmp_path,)) as upstream:
        with proxy(upstream, tmp_path) as (url, server):
            answer = httpx.get(f"{url}/workflows", headers={"Authorization": f"Bearer {TOKEN}"})
            run = stopped(server, tmp_path)
    assert answer.content == b"\x1b[31mred\x1b]0;title\x07"  # the client gets it unchanged
    assert "declared_status" in run.checks()
    assert "\x1b" not in run.log and "\x07" not in run.log
    assert printable("\x1b[31m\x07\u2028") == "\\x1b[31m\\x07\\u2028"


def test_a_taken_port_or_a_bad_upstream_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*contract_command(), "proxy", str(CONTRACT), "--upstream", "http://127.0.0.1:9"]
            + ["--port", str(port)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "cannot listen on" in done.stderr
    bad = subprocess.run(
        [*contract_command(), "proxy", str(CONTRACT), "--upstream", "ftp://example"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "give an http(s) URL" in bad.stderr


def test_sigint_writes_the_reports_too(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [*contract_command(), "proxy", str(CONTRACT), "--upstream", "http://127.0.0.1:9"]
        + ["--port", str(port), "--report", str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=python_path_env(),
    )
    assert process.stdout is not None
    started = threading.Event()

    def wait_for_banner() -> None:
        assert process.stdout is not None
        if b"contract proxy:" in process.stdout.readline():
            started.set()

    reader = threading.Thread(target=wait_for_banner)
    reader.start()
    assert started.wait(60)
    reader.join()
    answer = httpx.get(f"http://127.0.0.1:{port}/workflows")  # the upstream is down: 502
    process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=60)[0].decode()
    assert answer.status_code == 502
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert report["requests"] == 1
    assert any("the upstream did not answer" in error for error in report["errors"])
    assert process.returncode == 2, output  # an exchange that could not be checked: incomplete
