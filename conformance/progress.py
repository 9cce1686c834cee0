"""A one-line progress bar on a terminal; silent everywhere else (CI logs, pipes, pytest)."""

from __future__ import annotations

import shutil
import sys
from typing import TextIO

WIDTH = 24


class Progress:
    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.phase = ""
        self.total = 0
        self.done = 0
        self.requests = 0
        self.findings = 0
        self._drawn = False

    def start_phase(self, name: str, total: int) -> None:
        self.phase, self.total, self.done = name, max(total, 0), 0
        self.draw()

    def step(self, *, requests: int = 0, findings: int | None = None, done: int = 1) -> None:
        self.done += done
        self.requests += requests
        if findings is not None:
            self.findings = findings
        self.draw()

    def draw(self) -> None:
        if not self.enabled:
            return
        if self.total:
            filled = min(WIDTH, WIDTH * self.done // self.total)
            bar = "#" * filled + "." * (WIDTH - filled)
            where = f"[{bar}] {min(self.done, self.total)}/{self.total}"
        else:
            where = f"[{'.' * WIDTH}] {self.done}"
        plural = "" if self.findings == 1 else "s"
        line = (
            f"{self.phase:<9} {where} · {self.requests} requests · {self.findings} finding{plural}"
        )
        columns = shutil.get_terminal_size((100, 20)).columns
        self.stream.write("\r" + line[: columns - 1].ljust(columns - 1))
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.enabled and self._drawn:
            columns = shutil.get_terminal_size((100, 20)).columns
            self.stream.write("\r" + " " * (columns - 1) + "\r")
            self.stream.flush()
            self._drawn = False
