"""A small implementation of the seed contract whose behaviour is chosen by the workflow id.

It runs on `agentos_seed`, the package the tests generate from the documented seed contract
(shared/contracts), so that it does not change when spec/agentos.yaml grows.
"""

from __future__ import annotations

import os

from agentos_seed import AgentosSeedApi, create_app  # type: ignore[import-not-found]
from agentos_seed import responses as r  # type: ignore[import-not-found]
from agentos_seed.models import (  # type: ignore[import-not-found]
    BadRequestResponse,
    NotFoundResponse,
)
from fastapi import FastAPI

TOKEN_VARIABLE = "TEST_TOKEN"


class ScriptedCancel(AgentosSeedApi):  # type: ignore[misc]
    async def cancel_workflow_run(self, *, workflow_id: str, run_id: str) -> object:
        if workflow_id == "ok":
            return r.CancelWorkflowRun200(body={"run_id": run_id, "status": "CANCELLED"})
        if workflow_id == "finished":
            detail = BadRequestResponse(detail="run already finished", error_code="RUN_NOT_ACTIVE")
            return r.CancelWorkflowRun400(body=detail)
        if workflow_id == "boom":
            raise RuntimeError("secret-internal-detail: connection string postgres://admin:pw@db")
        if workflow_id == "undeclared":
            return "a plain string the contract never declared"
        if workflow_id == "wrong-media":
            return r.CancelWorkflowRun200(body={}, content_type="text/html")
        return r.CancelWorkflowRun404(
            body=NotFoundResponse(detail="workflow not found", error_code="WORKFLOW_NOT_FOUND")
        )


def create() -> FastAPI:
    return create_app(ScriptedCancel(), token=os.environ[TOKEN_VARIABLE])  # type: ignore[no-any-return]


def create_scaffold() -> FastAPI:
    """No implementation: every operation answers 501 (the token still guards it)."""
    return create_app(token=os.environ.get(TOKEN_VARIABLE))  # type: ignore[no-any-return]
