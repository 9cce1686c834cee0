"""The events of a run as AgentOS streams them, and the log that readers of a stream follow.

Each event is the generated SSE item of `create_workflow_run`'s 200 stream, with the agno
payload fields (`agno/run/workflow.py`): `event`, `created_at` (Unix seconds), `workflow_id`,
`workflow_name`, `session_id`, `run_id`, then the event's own fields.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from generated.agentos import responses as r
from generated.agentos.models import (
    ParallelExecutionCompletedEvent,
    ParallelExecutionStartedEvent,
    StepCompletedEvent,
    StepStartedEvent,
    WorkflowCancelledEvent,
    WorkflowCompletedEvent,
    WorkflowErrorEvent,
    WorkflowStartedEvent,
)

Event = r.CreateWorkflowRun200StreamItem
StepIndex = int | list[int]
TERMINAL = (
    r.CreateWorkflowRun200WorkflowCompleted,
    r.CreateWorkflowRun200WorkflowCancelled,
    r.CreateWorkflowRun200WorkflowError,
)
CANCEL_REASON = "the run was cancelled"


@dataclass(frozen=True, slots=True)
class RunIdentity:
    """What every event of a run carries."""

    run_id: str
    session_id: str
    workflow_id: str
    workflow_name: str

    def _common(self, event: str) -> dict[str, str | int]:
        return {
            "event": event,
            "created_at": int(time.time()),
            "workflow_id": self.workflow_id,
            "workflow_name": self.workflow_name,
            "session_id": self.session_id,
            "run_id": self.run_id,
        }

    def workflow_started(self) -> Event:
        data = WorkflowStartedEvent.model_validate(self._common("WorkflowStarted"))
        return r.CreateWorkflowRun200WorkflowStarted(data=data)

    def step_started(self, name: str, index: StepIndex) -> Event:
        fields = {**self._common("StepStarted"), "step_name": name, "step_index": index}
        return r.CreateWorkflowRun200StepStarted(data=StepStartedEvent.model_validate(fields))

    def step_completed(self, name: str, index: StepIndex, content: str | None) -> Event:
        fields = {
            **self._common("StepCompleted"),
            "step_name": name,
            "step_index": index,
            "content": content,
            "content_type": "str",
        }
        return r.CreateWorkflowRun200StepCompleted(data=StepCompletedEvent.model_validate(fields))

    def parallel_started(self, name: str, index: int, count: int) -> Event:
        fields = {
            **self._common("ParallelExecutionStarted"),
            "step_name": name,
            "step_index": index,
            "parallel_step_count": count,
        }
        data = ParallelExecutionStartedEvent.model_validate(fields)
        return r.CreateWorkflowRun200ParallelExecutionStarted(data=data)

    def parallel_completed(self, name: str, index: int, count: int) -> Event:
        fields = {
            **self._common("ParallelExecutionCompleted"),
            "step_name": name,
            "step_index": index,
            "parallel_step_count": count,
        }
        data = ParallelExecutionCompletedEvent.model_validate(fields)
        return r.CreateWorkflowRun200ParallelExecutionCompleted(data=data)

    def workflow_completed(self, content: str | None) -> Event:
        fields = {**self._common("WorkflowCompleted"), "content": content, "content_type": "str"}
        data = WorkflowCompletedEvent.model_validate(fields)
        return r.CreateWorkflowRun200WorkflowCompleted(data=data)

    def workflow_cancelled(self, reason: str = CANCEL_REASON) -> Event:
        data = WorkflowCancelledEvent.model_validate(
            {**self._common("WorkflowCancelled"), "reason": reason}
        )
        return r.CreateWorkflowRun200WorkflowCancelled(data=data)

    def workflow_error(self, error: str) -> Event:
        data = WorkflowErrorEvent.model_validate({**self._common("WorkflowError"), "error": error})
        return r.CreateWorkflowRun200WorkflowError(data=data)


class RunEvents:
    """The events of one run, in order, until its terminal event.

    Readers follow the log by position, each at its own pace: nothing is queued per reader, and
    the log holds at most a few events per step of the workflow (a run's size is fixed).
    """

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._changed = asyncio.Event()
        self.closed = False

    @property
    def ended(self) -> bool:
        """Whether the terminal event (WorkflowCompleted/Cancelled/Error) has been sent."""
        return bool(self._events) and isinstance(self._events[-1], TERMINAL)

    def emit(self, event: Event) -> None:
        if self.closed:
            return
        self._events.append(event)
        if isinstance(event, TERMINAL):
            self.closed = True
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def follow(self) -> AsyncIterator[Event]:
        """Every event from the first, as it is emitted, until the log closes."""
        position = 0
        while True:
            while position < len(self._events):
                yield self._events[position]
                position += 1
            if self.closed:
                return
            await self._changed.wait()
