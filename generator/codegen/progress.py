"""A progress line for long generations: a bar on a terminal, silence in CI and in pipes."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

BAR_WIDTH = 24


class Progress:
    """Stages of known count; on a terminal it redraws `[####....] 3/6 stage 1.2 s` in place."""

    def __init__(self, stream: TextIO | None, total: int) -> None:
        self.stream = stream
        self.total = total
        self.done = 0
        self._label = ""
        self._started = time.monotonic()
        self._lock = threading.Lock()

    @classmethod
    def for_terminal(cls, stream: TextIO, total: int) -> Progress:
        interactive = stream.isatty() and not os.environ.get("CI")
        return cls(stream if interactive else None, total)

    @contextmanager
    def stage(self, label: str) -> Iterator[None]:
        if self.stream is None:
            yield
            return
        self._label = label
        self._started = time.monotonic()
        stop = threading.Event()
        ticker = threading.Thread(target=self._tick, args=(stop,), daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()
            self.done += 1
            self._draw()

    def finish(self) -> None:
        if self.stream is not None:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()

    def _tick(self, stop: threading.Event) -> None:
        while not stop.wait(0.2):
            self._draw()
        self._draw()

    def _draw(self) -> None:
        assert self.stream is not None
        filled = BAR_WIDTH * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        elapsed = time.monotonic() - self._started
        line = (
            f"[{bar}] {min(self.done + 1, self.total)}/{self.total} {self._label} {elapsed:.1f} s"
        )
        with self._lock:
            self.stream.write(f"\r\x1b[2K{line}")
            self.stream.flush()


QUIET = Progress(None, 1)
