"""`contract explain CODE`: what a finding code means, why it matters, how to fix the server.

The texts are data, one file per code in `conformance/codes/CODE.toml` (keys `check`, `title`,
`means`, `matters`, `fix`): adding a code is adding one file, and tests/test_finding_codes.py
fails until every code a failure type carries has one.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from generator.spec.errors import UsageError

FIELDS = ("check", "title", "means", "matters", "fix")
CODE_PATTERN = re.compile(r"[A-Z]{2}\d{3}")


@dataclass(frozen=True, slots=True)
class Explanation:
    code: str
    check: str
    title: str
    means: str
    matters: str
    fix: str

    def sections(self) -> list[tuple[str, str]]:
        return [
            ("What it means", self.means),
            ("Why it matters", self.matters),
            ("How to fix a server that fails it", self.fix),
        ]


@cache
def explanations() -> dict[str, Explanation]:
    """Every documented code, in code order."""
    found: dict[str, Explanation] = {}
    for entry in sorted(resources.files(__package__).joinpath("codes").iterdir(), key=str):
        code = entry.name.removesuffix(".toml")
        if not entry.name.endswith(".toml") or not CODE_PATTERN.fullmatch(code):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        missing = [name for name in FIELDS if not isinstance(data.get(name), str)]
        if missing:
            raise ValueError(f"conformance/codes/{entry.name}: missing {', '.join(missing)}")
        found[code] = Explanation(code, *(str(data[name]).strip() for name in FIELDS))
    return found


def lookup(code: str) -> Explanation:
    """The explanation of `code` (any case); UsageError naming the closest codes otherwise."""
    known = explanations()
    wanted = code.strip().upper()
    if wanted in known:
        return known[wanted]
    close = difflib.get_close_matches(wanted, list(known), n=3, cutoff=0.6)
    by_check = [e.code for e in known.values() if e.check == code.strip().lower()]
    hint = close or by_check
    suggestion = f"; did you mean {' or '.join(hint)}?" if hint else ""
    raise UsageError(
        f"contract explain: unknown finding code {code!r}{suggestion} "
        "(`contract explain` lists every code)"
    )


def render_explanation(explanation: Explanation, *, width: int, colour: bool = False) -> str:
    from rich.padding import Padding
    from rich.text import Text

    from generator.terminal.text import render

    parts: list[Text | Padding] = [
        Text(f"{explanation.code} · {explanation.check} · {explanation.title}", style="bold")
    ]
    for heading, text in explanation.sections():
        parts += [Text(""), Text(heading, style="bold"), Padding(Text(text), (0, 0, 0, 2))]
    return render(parts, width=width, colour=colour)


def render_index(*, width: int, colour: bool = False) -> str:
    from rich.table import Table
    from rich.text import Text

    from generator.terminal.text import render

    table = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 1))
    for name in ("code", "check", "what the server did"):
        table.add_column(name, overflow="fold")
    for explanation in explanations().values():
        table.add_row(explanation.code, explanation.check, explanation.title)
    hint = Text("`contract explain CODE` says what a code means and how to fix a server.")
    return render([table, Text(""), hint], width=width, colour=colour)
