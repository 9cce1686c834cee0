"""One progress line for long work (generation stages, conformance phases), drawn by rich.

On an interactive terminal it redraws in place and is erased when the work ends, so the summary
that follows starts on a clean line; everywhere else (pipes, CI logs, pytest) it draws nothing.
Rich's refresh thread runs only while a stage or phase is open: generation forks its model
worker between stages, never with a thread of ours alive.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from .console import interactive

BAR_WIDTH = 24


class Progress:
    """A bar over stages or steps of known count (an unknown count pulses), plus counters.

    Two ways to feed it: `stage(label)` around each of `total` stages (generation), or
    `start_phase(name, total)` then `step(...)` per unit of work (conformance), then `close()`.
    """

    def __init__(
        self, stream: TextIO | None = None, *, enabled: bool | None = None, total: int = 0
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = interactive(self.stream) if enabled is None else enabled
        self.total = total
        self.done = 0
        self.phase = ""
        self.requests = 0
        self.findings: int | None = None
        self._display: RichProgress | None = None
        self._task: TaskID | None = None

    @classmethod
    def for_terminal(cls, stream: TextIO, total: int) -> Progress:
        return cls(stream, total=total)

    # --- stages (generation) -------------------------------------------------------------

    @contextmanager
    def stage(self, label: str) -> Iterator[None]:
        """One of `total` stages: shown while it runs, counted when it ends."""
        if not self.enabled:
            yield
            return
        self.phase = label
        self._open()
        self._update()
        try:
            yield
        finally:
            self.done += 1
            self._update()
            self._shut()

    def finish(self) -> None:
        self.close()

    # --- phases and steps (conformance) --------------------------------------------------

    def start_phase(self, name: str, total: int) -> None:
        self.phase, self.total, self.done = name, max(total, 0), 0
        if self.enabled:
            self._open()
            self._update()

    def step(self, *, requests: int = 0, findings: int | None = None, done: int = 1) -> None:
        self.done += done
        self.requests += requests
        if findings is not None:
            self.findings = findings
        self._update()

    def close(self) -> None:
        self._shut()

    # --- drawing -------------------------------------------------------------------------

    def status(self) -> str:
        """The counters after the bar: requests and findings, once there are any to count."""
        if self.findings is None and not self.requests:
            return ""
        findings = self.findings or 0
        plural = "" if findings == 1 else "s"
        return f"· {self.requests} requests · {findings} finding{plural}"

    def _open(self) -> None:
        if self._display is not None:
            return
        console = Console(
            file=self.stream,
            force_terminal=True,
            no_color=bool(os.environ.get("NO_COLOR")),
            markup=False,
            highlight=False,
            emoji=False,
        )
        self._display = RichProgress(
            TextColumn("{task.description:<9}"),
            BarColumn(bar_width=BAR_WIDTH),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            refresh_per_second=5,
        )
        # The first frame is drawn by start(): the task is complete before it.
        self._task = self._display.add_task(self.phase, total=None, status="")
        self._update()
        self._display.start()

    def _update(self) -> None:
        if self._display is None or self._task is None:
            return
        total = self.total or None  # None: rich pulses, for work of unknown size
        shown = min(self.done, self.total) if self.total else self.done
        self._display.update(
            self._task, description=self.phase, total=total, completed=shown, status=self.status()
        )

    def _shut(self) -> None:
        if self._display is not None:
            self._display.stop()  # joins rich's refresh thread and erases the line
            self._display = None
            self._task = None


QUIET = Progress(enabled=False)
