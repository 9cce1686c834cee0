"""When to draw: colour and progress only on a terminal, never under NO_COLOR, TERM=dumb or CI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from typing import TextIO

from rich.console import Console

# Width for output that goes to a pipe or a file (CI logs): wide enough for a table, narrow
# enough for a log viewer; $COLUMNS overrides it, as for every terminal program.
PIPE_WIDTH = 100


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def interactive(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """A person is watching `stream`: a terminal, outside CI, that understands cursor moves."""
    env = os.environ if environ is None else environ
    return is_terminal(stream) and not env.get("CI") and env.get("TERM", "") != "dumb"


def wants_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour on an interactive terminal, unless NO_COLOR is set (https://no-color.org)."""
    env = os.environ if environ is None else environ
    return interactive(stream, env) and not env.get("NO_COLOR")


def width_of(stream: TextIO) -> int:
    """The terminal's columns, else $COLUMNS, else PIPE_WIDTH."""
    fallback = (PIPE_WIDTH, 24)
    if is_terminal(stream):
        return max(shutil.get_terminal_size(fallback).columns, 40)
    try:
        return max(int(os.environ.get("COLUMNS", "")), 40)
    except ValueError:
        return PIPE_WIDTH


def console_for(stream: TextIO, *, width: int | None = None, colour: bool | None = None) -> Console:
    """A console that prints text as given: no markup, no emoji, no guessed highlighting.

    Text from a spec or a server never goes through rich markup, so `[bold]` in a response body
    is printed, not interpreted.
    """
    coloured = wants_colour(stream) if colour is None else colour
    return Console(
        file=stream,
        width=width or width_of(stream),
        force_terminal=coloured,
        no_color=not coloured,
        color_system="standard" if coloured else None,
        markup=False,
        emoji=False,
        highlight=False,
        soft_wrap=False,
        legacy_windows=False,
    )
