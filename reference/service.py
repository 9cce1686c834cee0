"""The reference implementation of `AgentosApi`: the executor's outcomes as declared responses."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from generated.agentos import AgentosApi
from generated.agentos import responses as r
from generated.agentos.models import BadRequestResponse, BodyCreateWorkflowRun, NotFoundResponse

from .events import Event, RunEvents
from .executor import RunNotActive, RunNotFound, WorkflowExecutor, WorkflowNotFound
from .views import run_started, run_view, workflow_summary

logger = logging.getLogger("reference.service")


def workflow_not_found(workflow_id: str) -> NotFoundResponse:
    return NotFoundResponse(
        detail=f"workflow {workflow_id!r} not found", error_code="WORKFLOW_NOT_FOUND"
    )


def run_not_found(run_id: str) -> NotFoundResponse:
    return NotFoundResponse(detail=f"run {run_id!r} not found", error_code="RUN_NOT_FOUND")


def run_not_active(error: RunNotActive) -> BadRequestResponse:
    return BadRequestResponse(
        detail=f"the run is {error.status.value} and can no longer be cancelled",
        error_code="RUN_NOT_ACTIVE",
    )


class ReferenceAgentOS(AgentosApi):
    def __init__(self, executor: WorkflowExecutor) -> None:
        self.executor = executor

    async def get_workflows(self) -> r.GetWorkflowsResponse:
        workflows = self.executor.workflows.values()
        return r.GetWorkflows200(body=[workflow_summary(workflow) for workflow in workflows])

    async def create_workflow_run(
        self, *, workflow_id: str, body: BodyCreateWorkflowRun
    ) -> r.CreateWorkflowRunResponse:
        try:
            record = await self.executor.start(
                workflow_id,
                message=body.message,
                session_id=body.session_id,
                user_id=body.user_id,
            )
        except WorkflowNotFound:
            return r.CreateWorkflowRun404(body=workflow_not_found(workflow_id))
        if body.background:
            return r.CreateWorkflowRun202(body=run_started(record))
        events = self.executor.events(record.run_id)  # taken now: the run has not begun
        if body.stream is not False and events is not None:
            items = self.run_events(workflow_id, record.run_id, events)
            return r.CreateWorkflowRun200Stream(items=items)
        finished = await self.executor.wait(record.run_id)
        return r.CreateWorkflowRun200(body=run_view(finished))

    async def run_events(
        self, workflow_id: str, run_id: str, events: RunEvents
    ) -> AsyncIterator[Event]:
        """The run's events until its terminal one; a reader that goes away cancels the run.

        In AgentOS, `background=true` is the mode that survives a disconnect: a streaming run
        lives as long as its stream.
        """
        try:
            async for event in events.follow():
                yield event
        finally:
            if not events.ended:
                await self._cancel_abandoned(workflow_id, run_id)

    async def _cancel_abandoned(self, workflow_id: str, run_id: str) -> None:
        try:
            await self.executor.cancel(workflow_id, run_id)
        except (LookupError, RunNotActive):
            return  # it ended meanwhile
        logger.info("run %s cancelled: its stream's client went away", run_id)

    async def get_workflow_run(
        self, *, workflow_id: str, run_id: str, session_id: str | None = None
    ) -> r.GetWorkflowRunResponse:
        try:
            record = await self.executor.get(workflow_id, run_id, session_id=session_id)
        except WorkflowNotFound:
            return r.GetWorkflowRun404(body=workflow_not_found(workflow_id))
        except RunNotFound:
            return r.GetWorkflowRun404(body=run_not_found(run_id))
        return r.GetWorkflowRun200(body=run_view(record))

    async def cancel_workflow_run(
        self, *, workflow_id: str, run_id: str
    ) -> r.CancelWorkflowRunResponse:
        try:
            record = await self.executor.cancel(workflow_id, run_id)
        except WorkflowNotFound:
            return r.CancelWorkflowRun404(body=workflow_not_found(workflow_id))
        except RunNotFound:
            return r.CancelWorkflowRun404(body=run_not_found(run_id))
        except RunNotActive as error:
            return r.CancelWorkflowRun400(body=run_not_active(error))
        return r.CancelWorkflowRun200(body=run_view(record))
