"""What a workflow is (steps and parallel groups of steps) and the two demo workflows.

A step is an async function plus an optional async cleanup; the executor always runs the cleanup
once the step has started, whether it completed, failed or was cancelled.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

STEP_SECONDS_VARIABLE = "AGENTOS_DEMO_STEP_SECONDS"
# Short enough that a run started without `background` answers well within a client's (or
# `contract conform`'s) 10 s timeout, long enough to cancel a background run while it runs.
DEFAULT_STEP_SECONDS = 2.0
SEQUENTIAL_STEP_SECONDS = 0.05
PROGRESS_TICKS = 10


@dataclass(slots=True)
class StepContext:
    """What a running step sees: its run, the input message, earlier outputs, a progress hook."""

    run_id: str
    step_name: str
    message: str
    outputs: Mapping[str, str]
    report_progress: Callable[[int], None]
    resources: list[str] = field(default_factory=list)


StepFunction = Callable[[StepContext], Awaitable[str]]
CleanupFunction = Callable[[StepContext], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    run: StepFunction
    cleanup: CleanupFunction | None = None


@dataclass(frozen=True, slots=True)
class Parallel:
    """Steps that run at the same time; the group ends when all of them have."""

    name: str
    steps: tuple[Step, ...]


Node = Step | Parallel


@dataclass(frozen=True, slots=True)
class Workflow:
    id: str
    name: str
    description: str | None
    nodes: tuple[Node, ...]

    def positioned_steps(self) -> tuple[tuple[Step, str | None], ...]:
        """Every step in execution order with its group name; the index is its position."""
        result: list[tuple[Step, str | None]] = []
        for node in self.nodes:
            if isinstance(node, Parallel):
                result.extend((step, node.name) for step in node.steps)
            else:
                result.append((node, None))
        return tuple(result)


def slow_step(name: str, seconds: float) -> Step:
    """A step that works for `seconds`, recording its progress, and holds a resource meanwhile."""

    async def run(context: StepContext) -> str:
        context.resources.append(f"{name}:scratch")  # released by cleanup, whatever happens
        for tick in range(1, PROGRESS_TICKS + 1):
            await asyncio.sleep(seconds / PROGRESS_TICKS)
            context.report_progress(tick * 100 // PROGRESS_TICKS)
        return f"{name} looked into {context.message!r}"

    async def cleanup(context: StepContext) -> None:
        await asyncio.sleep(0)  # a real step would close connections or delete scratch files
        context.resources.clear()

    return Step(name=name, run=run, cleanup=cleanup)


def summary_step(name: str) -> Step:
    async def run(context: StepContext) -> str:
        context.report_progress(100)
        return "; ".join(context.outputs[key] for key in sorted(context.outputs))

    return Step(name=name, run=run)


def demo_workflows(step_seconds: float | None = None) -> tuple[Workflow, ...]:
    """`demo-parallel` (three slow steps at once, then a summary) and `demo-sequential`."""
    seconds = step_seconds if step_seconds is not None else configured_step_seconds()
    parallel = Workflow(
        id="demo-parallel",
        name="Demo: parallel research",
        description=(
            f"Three research steps of about {seconds:g} s each run in parallel, "
            "then a summary step combines their findings."
        ),
        nodes=(
            Parallel(
                name="research",
                steps=tuple(
                    slow_step(f"research-{topic}", seconds) for topic in ("web", "papers", "code")
                ),
            ),
            summary_step("summarise"),
        ),
    )
    sequential = Workflow(
        id="demo-sequential",
        name="Demo: sequential pipeline",
        description="Prepare, process and summarise the message, one step after the other.",
        nodes=(
            slow_step("prepare", SEQUENTIAL_STEP_SECONDS),
            slow_step("process", SEQUENTIAL_STEP_SECONDS),
            summary_step("summarise"),
        ),
    )
    return (parallel, sequential)


def configured_step_seconds() -> float:
    raw = os.environ.get(STEP_SECONDS_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_STEP_SECONDS
    try:
        value = float(raw)
    except ValueError:
        message = f"{STEP_SECONDS_VARIABLE} must be a number of seconds, not {raw!r}"
        raise ValueError(message) from None
    if value <= 0:
        raise ValueError(f"{STEP_SECONDS_VARIABLE} must be positive, not {raw!r}")
    return value
