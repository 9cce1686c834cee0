"""Runs workflows as asyncio tasks, with durable state and the cancel semantics of the contract.

- A run is one task; a parallel group is an `asyncio.TaskGroup` of step tasks inside it.
- Cancel: PENDING/RUNNING -> the CANCELLED status is committed first, then the run task is
  cancelled, which cancels every active step (parallel ones included); each step's cleanup runs;
  no step starts after the cancel. Already CANCELLED -> the same answer again. COMPLETED/ERROR ->
  `RunNotActive`.
- Status changes are compare-and-set in the store, so a cancel and a completion cannot both win.
- Every run records its events (reference.events) as AgentOS streams them; the terminal one
  (WorkflowCompleted, WorkflowCancelled, WorkflowError) is sent after the steps' cleanup.
- Many workers, many hosts: a run belongs to the worker that started it (its `owner`). A cancel
  received by another worker commits CANCELLED, publishes the intent (`StopIntents`) and waits,
  bounded, until the owner has stopped every step; a worker whose lease lapses has its runs
  recorded ERROR by the others (reference.leases).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from generated.agentos.models import RunStatus

from .events import RunEvents, RunIdentity, StepIndex
from .intents import StopIntents, intents_for
from .leases import Lease
from .store import ACTIVE, NewStep, RunRecord, Store
from .workflows import Parallel, Step, StepContext, Workflow

logger = logging.getLogger("reference.executor")

CRASH_REASON = "interrupted: the server stopped while the run was active"
SHUTDOWN_REASON = "interrupted: the server shut down while the run was active"
DEFAULT_CANCEL_WAIT = 10.0
DEFAULT_LEASE_SECONDS = 10.0
DEFAULT_POLL_SECONDS = 0.1
# How often a cancel received here reads whether the run's owner has stopped its steps.
SETTLE_POLL_SECONDS = (0.01, 0.02, 0.05, 0.1)


class WorkflowNotFound(LookupError):
    pass


class RunNotFound(LookupError):
    pass


class RunNotActive(Exception):
    def __init__(self, status: RunStatus) -> None:
        super().__init__(f"run is {status.value}")
        self.status = status


@dataclass(slots=True)
class _ActiveRun:
    run_id: str
    workflow: Workflow
    message: str
    identity: RunIdentity
    events: RunEvents = field(default_factory=RunEvents)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    starting_closed: bool = False  # once set, no further step of this run starts
    stop_sent: bool = False
    stop_status: RunStatus = RunStatus.CANCELLED
    finishing: bool = False  # recording its own outcome: a stop would cut that short

    def stop(self, status: RunStatus) -> None:
        """Cancel the run task, once: a second cancel could interrupt the steps' cleanup."""
        self.starting_closed = True
        if self.stop_sent or self.finishing:
            return
        self.stop_sent = True
        self.stop_status = status
        if self.task is not None:
            self.task.cancel()


class WorkflowExecutor:
    def __init__(
        self,
        store: Store,
        workflows: Iterable[Workflow],
        *,
        cancel_wait: float = DEFAULT_CANCEL_WAIT,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        intents: StopIntents | None = None,
    ) -> None:
        self.store = store
        self.workflows = {workflow.id: workflow for workflow in workflows}
        self.cancel_wait = cancel_wait
        self.owner = str(uuid.uuid4())
        self.lease = Lease(store, self.owner, lease_seconds, self._running_here)
        self.intents = intents if intents is not None else intents_for(store, poll_seconds)
        self._active: dict[str, _ActiveRun] = {}
        self._starting: set[str] = set()  # being inserted: stored, not yet in _active
        self._closing = False

    async def open(self) -> None:
        """In the serving loop, before the first request: connect, take the lease, listen."""
        await self.store.open()
        await self.lease.take()
        await self.intents.open(self._deliver_stop, lambda: tuple(self._active))

    def _running_here(self) -> tuple[str, ...]:
        """Every run this worker holds: executing, or being stored right now."""
        return (*self._active, *self._starting)

    def _deliver_stop(self, run_id: str, status: RunStatus) -> None:
        """A stop committed elsewhere (a cancel, a reaped lease): stop the run if it runs here."""
        active = self._active.get(run_id)
        if active is not None and status in (RunStatus.CANCELLED, RunStatus.ERROR):
            active.stop(status)

    def workflow(self, workflow_id: str) -> Workflow:
        try:
            return self.workflows[workflow_id]
        except KeyError:
            raise WorkflowNotFound(workflow_id) from None

    # -- starting and reading -------------------------------------------------------------------

    async def start(
        self,
        workflow_id: str,
        *,
        message: str,
        session_id: str | None = None,
        user_id: str | None = None,
    ) -> RunRecord:
        """Store the run as PENDING (committed) and start its task; return the stored run."""
        workflow = self.workflow(workflow_id)
        if self._closing:
            raise RuntimeError("the executor is shutting down")
        run_id = str(uuid.uuid4())
        self._starting.add(run_id)
        try:
            record = await self.store.insert_run(
                run_id=run_id,
                workflow_id=workflow.id,
                session_id=session_id or str(uuid.uuid4()),
                user_id=user_id,
                message=message,
                steps=[NewStep(step.name, group) for step, group in workflow.positioned_steps()],
                owner=self.owner,
            )
            identity = RunIdentity(run_id, record.session_id, workflow.id, workflow.name)
            active = _ActiveRun(
                run_id=run_id, workflow=workflow, message=message, identity=identity
            )
            self._active[run_id] = active
        finally:
            self._starting.discard(run_id)
        task = asyncio.create_task(self._execute(active), name=f"run {run_id}")
        active.task = task
        task.add_done_callback(lambda _: self._forget(active))
        return record

    def events(self, run_id: str) -> RunEvents | None:
        """The event log of a run that is active here (None once it has ended)."""
        active = self._active.get(run_id)
        return active.events if active is not None else None

    async def wait(self, run_id: str) -> RunRecord:
        """The run once its task has ended (or at once when it is not active here)."""
        active = self._active.get(run_id)
        if active is not None:
            await asyncio.shield(active.done.wait())
        record = await self.store.get_run(run_id)
        if record is None:
            raise RunNotFound(run_id)
        return record

    async def get(
        self, workflow_id: str, run_id: str, *, session_id: str | None = None
    ) -> RunRecord:
        self.workflow(workflow_id)
        record = await self.store.get_run(run_id)
        if record is None or record.workflow_id != workflow_id:
            raise RunNotFound(run_id)
        if session_id is not None and record.session_id != session_id:
            raise RunNotFound(run_id)
        return record

    # -- cancelling ---------------------------------------------------------------------------

    async def cancel(self, workflow_id: str, run_id: str) -> RunRecord:
        """Cancel an active run; committed before this returns. Waits (bounded) for cleanup."""
        record = await self.get(workflow_id, run_id)
        if record.status not in ACTIVE and record.status is not RunStatus.CANCELLED:
            raise RunNotActive(record.status)
        active = self._active.get(run_id)
        if active is not None:
            active.starting_closed = True  # from here on no step of this run starts
        if record.status is not RunStatus.CANCELLED:
            status = await self.store.transition(run_id, ACTIVE, RunStatus.CANCELLED)
            if status is not RunStatus.CANCELLED:
                assert status is not None
                raise RunNotActive(status)  # it completed or failed first: that status stands
        if active is not None:
            active.stop(RunStatus.CANCELLED)
            if not await self._wait_done(active, self.cancel_wait):
                logger.warning("run %s: cleanup still going after %.1f s", run_id, self.cancel_wait)
            # Steps that never started (also when the task was cancelled before it ran at all).
            await self.store.close_steps(run_id, RunStatus.CANCELLED)
        elif any(step.status in ACTIVE for step in record.steps):
            if record.status is not RunStatus.CANCELLED:
                await self.intents.publish(run_id)
            await self._wait_stopped_elsewhere(run_id)
        final = await self.store.get_run(run_id)
        assert final is not None
        return final

    async def _wait_stopped_elsewhere(self, run_id: str) -> None:
        """Until the owner has stopped every step; if the owner is gone, close them here."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.cancel_wait
        beat = 0
        while True:
            settling = await self.store.settling(run_id)
            if settling.open_steps == 0:
                return
            if not settling.owner_alive:  # nobody will stop them: they stopped with their worker
                await self.store.close_steps(run_id, RunStatus.CANCELLED, include_running=True)
                return
            if loop.time() > deadline:
                logger.warning(
                    "run %s: its worker has not stopped it after %.1f s", run_id, self.cancel_wait
                )
                await self.store.close_steps(run_id, RunStatus.CANCELLED)
                return
            await asyncio.sleep(SETTLE_POLL_SECONDS[min(beat, len(SETTLE_POLL_SECONDS) - 1)])
            beat += 1

    @staticmethod
    async def _wait_done(active: _ActiveRun, timeout: float) -> bool:
        try:
            await asyncio.wait_for(asyncio.shield(active.done.wait()), timeout)
        except TimeoutError:
            return False
        return True

    async def shutdown(self, timeout: float = DEFAULT_CANCEL_WAIT) -> None:
        """Stop every active run (cleanup runs), record them as interrupted, close the store."""
        self._closing = True
        runs = list(self._active.values())
        for active in runs:
            active.stop(RunStatus.ERROR)
        for active in runs:
            await self._wait_done(active, timeout)
        await self.intents.close()
        try:
            await self.store.interrupt_runs(SHUTDOWN_REASON, owner=self.owner)
            await self.lease.release()
        finally:
            await self.store.close()

    def _forget(self, active: _ActiveRun) -> None:
        self._active.pop(active.run_id, None)
        active.done.set()

    # -- executing ----------------------------------------------------------------------------

    async def _execute(self, active: _ActiveRun) -> None:
        run_id = active.run_id
        events, identity = active.events, active.identity
        outputs: dict[str, str] = {}
        try:
            status = await self.store.transition(run_id, {RunStatus.PENDING}, RunStatus.RUNNING)
            if status is not RunStatus.RUNNING:
                raise asyncio.CancelledError  # cancelled before it started: no step runs
            events.emit(identity.workflow_started())
            position = 0
            for index, node in enumerate(active.workflow.nodes):
                if active.starting_closed:
                    raise asyncio.CancelledError  # the run's own cancel is on its way
                if isinstance(node, Parallel):
                    count = len(node.steps)
                    events.emit(identity.parallel_started(node.name, index, count))
                    async with asyncio.TaskGroup() as group:
                        for offset, step in enumerate(node.steps):
                            group.create_task(
                                self._run_step(
                                    active, position + offset, step, outputs, [index, offset]
                                ),
                                name=f"run {run_id} step {step.name}",
                            )
                    position += count
                    if not active.starting_closed:
                        events.emit(identity.parallel_completed(node.name, index, count))
                else:
                    await self._run_step(active, position, node, outputs, index)
                    position += 1
            if active.starting_closed:
                raise asyncio.CancelledError
            content = outputs.get(active.workflow.positioned_steps()[-1][0].name)
            active.finishing = True
            status = await self.store.transition(
                run_id, {RunStatus.RUNNING}, RunStatus.COMPLETED, content=content
            )
            if status is RunStatus.COMPLETED:
                events.emit(identity.workflow_completed(content))
            else:  # a cancel committed first: its status stands
                events.emit(identity.workflow_cancelled())
        except asyncio.CancelledError:
            # Stopped (or it found itself cancelled): a stop arriving now must not cut this short.
            active.finishing = True
            await self.store.close_steps(run_id, active.stop_status)
            if active.stop_status is RunStatus.CANCELLED:
                events.emit(identity.workflow_cancelled())
            else:
                events.emit(identity.workflow_error(SHUTDOWN_REASON))
            raise
        except Exception as exc:
            logger.exception("run %s failed", run_id)
            active.finishing = True
            error = f"a step failed: {type(exc).__name__}"
            await self.store.transition(run_id, ACTIVE, RunStatus.ERROR, error=error)
            await self.store.close_steps(run_id, RunStatus.ERROR)
            events.emit(identity.workflow_error(error))
        finally:
            events.close()

    async def _run_step(
        self,
        active: _ActiveRun,
        position: int,
        step: Step,
        outputs: dict[str, str],
        index: StepIndex,
    ) -> None:
        """Run one step; its cleanup always runs and its final state is committed on return."""
        if active.starting_closed:
            return  # no step starts once a cancel has been requested
        run_id = active.run_id
        context = StepContext(
            run_id=run_id,
            step_name=step.name,
            message=active.message,
            outputs=dict(outputs),
            report_progress=lambda value: self.store.step_progress(run_id, position, value),
        )
        self.store.step_started(run_id, position)
        active.events.emit(active.identity.step_started(step.name, index))
        outcome = RunStatus.ERROR
        try:
            outputs[step.name] = await step.run(context)
            outcome = RunStatus.COMPLETED
        except asyncio.CancelledError:
            outcome = active.stop_status
            raise
        finally:
            # Shielded: a cancel that lands during the cleanup must not cut it short.
            finishing = asyncio.ensure_future(self._finish_step(step, context, position, outcome))
            try:
                await asyncio.shield(finishing)
            except asyncio.CancelledError:
                await finishing
                raise
        if outcome is RunStatus.COMPLETED and not active.starting_closed:
            output = outputs[step.name]
            active.events.emit(active.identity.step_completed(step.name, index, output))

    async def _finish_step(
        self, step: Step, context: StepContext, position: int, outcome: RunStatus
    ) -> None:
        cleaned_up = await self._cleanup(step, context)
        await self.store.step_finished(context.run_id, position, outcome, cleaned_up=cleaned_up)

    @staticmethod
    async def _cleanup(step: Step, context: StepContext) -> bool:
        if step.cleanup is None:
            return True
        try:
            await step.cleanup(context)
        except Exception:
            logger.exception("cleanup of step %s failed (run %s)", step.name, context.run_id)
            return False
        return True
