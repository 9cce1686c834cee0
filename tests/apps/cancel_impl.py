"""A small implementation of the seed contract whose behaviour is chosen by the workflow id."""

from __future__ import annotations

import os

from fastapi import FastAPI

from generated.agentos import AgentosApi, create_app
from generated.agentos import responses as r
from generated.agentos.models import BadRequestResponse, NotFoundResponse

TOKEN_VARIABLE = "TEST_TOKEN"


class ScriptedCancel(AgentosApi):
    async def cancel_workflow_run(
        self, *, workflow_id: str, run_id: str
    ) -> r.CancelWorkflowRunResponse:
        if workflow_id == "ok":
            return r.CancelWorkflowRun200(body={"run_id": run_id, "status": "CANCELLED"})
        if workflow_id == "finished":
            detail = BadRequestResponse(detail="run already finished", error_code="RUN_NOT_ACTIVE")
            return r.CancelWorkflowRun400(body=detail)
        if workflow_id == "boom":
            raise RuntimeError("secret-internal-detail: connection string postgres://admin:pw@db")
        if workflow_id == "undeclared":
            return "a plain string the contract never declared"  # type: ignore[return-value]
        if workflow_id == "wrong-media":
            return r.CancelWorkflowRun200(body={}, content_type="text/html")
        return r.CancelWorkflowRun404(
            body=NotFoundResponse(detail="workflow not found", error_code="WORKFLOW_NOT_FOUND")
        )


def create() -> FastAPI:
    return create_app(ScriptedCancel(), token=os.environ[TOKEN_VARIABLE])


def create_scaffold() -> FastAPI:
    return create_app()
