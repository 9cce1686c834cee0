"""An offline Agno AgentOS: one workflow of plain Python steps, no model, no API key.

Run it in the agno virtual environment (`make conform-agno` builds it) through `serve.py`, or
as `uvicorn --factory app:build_app --host 127.0.0.1 --port 7777`.

Environment:
    AGNO_DB_DIR       folder for the SQLite file (default: a fresh temporary folder)
    AGNO_SLOW_SECONDS how long the slow step takes (default 3)
    OS_SECURITY_KEY   when set, AgentOS requires `Authorization: Bearer <key>`
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

os.environ.setdefault("AGNO_TELEMETRY", "false")

from agno.db.sqlite import SqliteDb  # noqa: E402 - after the telemetry switch
from agno.os import AgentOS  # noqa: E402
from agno.workflow import Step, Workflow  # noqa: E402
from agno.workflow.types import StepInput, StepOutput  # noqa: E402
from fastapi import FastAPI  # noqa: E402

WORKFLOW_ID = "offline-pipeline"
SLOW_SECONDS = float(os.environ.get("AGNO_SLOW_SECONDS", "3"))


def normalise(step_input: StepInput) -> StepOutput:
    """Trim and lower-case the input message."""
    text = str(step_input.input or "").strip().lower()
    return StepOutput(content=text)


async def slow_count(step_input: StepInput) -> StepOutput:
    """Take a while (the window in which a cancel can land), then count the words.

    Asynchronous on purpose: Agno calls a synchronous step on its event loop, so a blocking
    sleep would stall every other request (a cancel included) until the step ends.
    """
    await asyncio.sleep(SLOW_SECONDS)
    text = str(step_input.previous_step_content or "")
    return StepOutput(content=f"{len(text.split())} words: {text}")


def finish(step_input: StepInput) -> StepOutput:
    """Wrap the result."""
    return StepOutput(content=f"done: {step_input.previous_step_content}")


def build_app(db_dir: Path | None = None) -> FastAPI:
    """The AgentOS FastAPI app, its SQLite file in `db_dir` (or AGNO_DB_DIR, or a temp folder)."""
    folder = db_dir or Path(os.environ.get("AGNO_DB_DIR") or tempfile.mkdtemp(prefix="agno-db-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = SqliteDb(db_file=str(folder / "agentos.db"))
    workflow = Workflow(
        id=WORKFLOW_ID,
        name="Offline pipeline",
        description="Three plain Python steps; the second one is slow.",
        db=db,
        steps=[
            Step(name="normalise", executor=normalise),
            Step(name="slow_count", executor=slow_count),
            Step(name="finish", executor=finish),
        ],
    )
    agent_os = AgentOS(
        id="offline-agentos",
        description="Offline AgentOS for contract conformance",
        workflows=[workflow],
        db=db,
        telemetry=False,
    )
    return agent_os.get_app()
