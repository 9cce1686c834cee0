"""Agno's own `AgentOSClient.run_workflow_stream` parses the reference's stream (issue 12, item 4).

The agno environment is built with pip in a session fixture, the way examples/agno builds it
(`conform_agno.ensure_venv`: once, then reused); slow-marked, never skipped.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.reference_server import ReferenceServer
from tests.support.server import REPO

pytestmark = pytest.mark.slow

EXAMPLE = REPO / "examples" / "agno"


@pytest.fixture(scope="session")
def agno_python() -> Path:
    spec = importlib.util.spec_from_file_location("agno_harness", EXAMPLE / "conform_agno.py")
    assert spec is not None and spec.loader is not None
    harness = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = harness  # its dataclasses look their module up
    spec.loader.exec_module(harness)
    python: Path = harness.ensure_venv()
    return python


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceServer]:
    folder = tmp_path_factory.mktemp("agno-stream")
    env = {"AGENTOS_DEMO_STEP_SECONDS": "0.2"}
    with ReferenceServer(folder / "agentos.db", folder / "server.log", env=env) as running:
        yield running


def test_agno_client_parses_our_stream_into_its_typed_events(
    agno_python: Path, reference: ReferenceServer
) -> None:
    assert reference.token is not None
    done = subprocess.run(  # noqa: S603 - fixed arguments, loopback server
        [str(agno_python), str(EXAMPLE / "stream_client.py"), reference.url, reference.token]
        + ["demo-parallel"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Unknown event type" not in done.stderr and "Failed to parse" not in done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    classes = [event["class"] for event in events]
    assert classes == [
        "WorkflowStartedEvent",
        "ParallelExecutionStartedEvent",
        *["StepStartedEvent"] * 3,
        *["StepCompletedEvent"] * 3,
        "ParallelExecutionCompletedEvent",
        "StepStartedEvent",
        "StepCompletedEvent",
        "WorkflowCompletedEvent",
    ]
    assert all(event["event"] == event["class"].removesuffix("Event") for event in events)
    assert len({event["run_id"] for event in events}) == 1
    assert events[-2]["step_name"] == "summarise"
