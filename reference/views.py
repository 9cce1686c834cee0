"""Stored runs and registered workflows as the contract's response models."""

from __future__ import annotations

from generated.agentos.models import (
    StepStateResponse,
    WorkflowRunResponse,
    WorkflowRunStartedResponse,
    WorkflowSummaryResponse,
)

from .store import RunRecord
from .workflows import Workflow


def workflow_summary(workflow: Workflow) -> WorkflowSummaryResponse:
    return WorkflowSummaryResponse(
        id=workflow.id, name=workflow.name, description=workflow.description
    )


def run_started(record: RunRecord) -> WorkflowRunStartedResponse:
    return WorkflowRunStartedResponse(
        run_id=record.run_id, session_id=record.session_id, status=record.status
    )


def run_view(record: RunRecord) -> WorkflowRunResponse:
    return WorkflowRunResponse(
        run_id=record.run_id,
        workflow_id=record.workflow_id,
        session_id=record.session_id,
        user_id=record.user_id,
        input=record.input,
        status=record.status,
        content=record.content,
        error=record.error,
        steps=[
            StepStateResponse(
                name=step.name,
                group=step.group,
                status=step.status,
                progress=step.progress,
                cleaned_up=step.cleaned_up,
                started_at=step.started_at,
                finished_at=step.finished_at,
            )
            for step in record.steps
        ],
        created_at=record.created_at,
        updated_at=record.updated_at,
        finished_at=record.finished_at,
    )
