"""Text from outside (a spec, a server) made safe to print, and renderables made into lines.

Rich is imported only when something is drawn: `say` of a plain line costs no start-up time.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import RenderableType

# What comes from outside must not reach a terminal or a report raw: C0 controls but tab and
# newline, DEL and C1 controls (ESC among them starts a terminal command), Unicode line and
# paragraph separators, bidirectional overrides,
# lone surrogates and the XML non-characters.
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)


def printable(text: str) -> str:
    """`text` with every character a terminal or an XML file must not get raw written as an
    escape (`\\x1b`, `\\u202e`)."""
    return _UNPRINTABLE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def render(renderables: Iterable[RenderableType], *, width: int, colour: bool = False) -> str:
    """Renderables as lines of at most `width` columns; ANSI colour only when `colour`."""
    from .console import console_for

    buffer = io.StringIO()
    console = console_for(buffer, width=width, colour=colour)
    for renderable in renderables:
        console.print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def say(text: str, *, stream: TextIO | None = None, style: str | None = None) -> None:
    """One line as given (never wrapped: CI greps it), its control characters escaped.

    In `style` (rich's names: "red", "yellow", "bold") only where colour is wanted.
    """
    out = stream or sys.stderr
    line = printable(text)
    if style and _may_colour(out):
        from rich.text import Text

        from .console import console_for, wants_colour

        if wants_colour(out):
            console_for(out, colour=True).print(Text(line, style=style), soft_wrap=True)
            return
    out.write(line + "\n")
    out.flush()


def _may_colour(stream: TextIO) -> bool:
    """A cheap first look (no rich import) at whether `stream` could take colour at all."""
    try:
        return stream.isatty() and not os.environ.get("NO_COLOR")
    except (AttributeError, ValueError):
        return False


def shell_lines(label: str, command: str, width: int) -> list[str]:
    """`label command`, broken between words with ` \\` continuations to fit `width`.

    A shell reads the lines as one command, so a wrapped reproduction line still pastes.
    """
    words = command.split(" ")
    lines: list[str] = []
    current = label + words[0]
    for word in words[1:]:
        if len(current) + 1 + len(word) + 2 > width and current.strip():
            lines.append(current + " \\")
            current = "    " + word
        else:
            current += " " + word
    lines.append(current)
    return lines
