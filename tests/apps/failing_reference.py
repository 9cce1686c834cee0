"""The reference app with one workflow whose second step fails: its stream ends in WorkflowError.

`uvicorn --factory tests.apps.failing_reference:build`; the SQLite file is FAILING_REFERENCE_DB.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from reference.app import create
from reference.workflows import Step, StepContext, Workflow, summary_step

TOKEN = "failing-reference-token"


async def explode(context: StepContext) -> str:
    raise RuntimeError("this step always fails")


def build() -> FastAPI:
    workflow = Workflow(
        id="demo-failing",
        name="Demo: a failing step",
        description="The first step completes, the second fails.",
        nodes=(summary_step("prepare"), Step(name="explode", run=explode)),
    )
    return create(os.environ["FAILING_REFERENCE_DB"], token=TOKEN, workflows=(workflow,))
