"""`contract diff OLD NEW`: every change between two contracts, classified; text, JSON, Markdown.

OLD and NEW are files or `git:REV:PATH` (`generator.diff.sources`). Exit 0 when nothing is at
or above `fail_on` (breaking by default; `warn` counts the changes the spec cannot tell too), 1
when something is, 2 when a contract cannot be read or NEW is not valid OpenAPI: a
green diff of a broken document would be a pass that means nothing. `allow_invalid` compares it
anyway (documents cut down to a fragment, as in test suites). OLD is history: its problems are
warnings.
"""

from __future__ import annotations

import sys
from typing import TextIO

from generator.diff.render import FORMATS, DiffResult, render
from generator.diff.rules import BREAKING, FAIL_ON
from generator.diff.sources import Contract, load_contract
from generator.diff.walk import compare_documents
from generator.spec.errors import EXIT_FAILED, EXIT_OK, Diagnostic, UnreadableSpec, UsageError
from generator.terminal.text import say


def run_diff(
    old: str,
    new: str,
    output_format: str = "text",
    out: TextIO | None = None,
    *,
    allow_invalid: bool = False,
    fail_on: str = BREAKING,
) -> int:
    """Print the classified changes; EXIT_FAILED if any is at or above `fail_on`, else EXIT_OK."""
    if output_format not in FORMATS:
        raise UsageError(f"unknown format {output_format!r}; choose one of {', '.join(FORMATS)}")
    if fail_on not in FAIL_ON:
        raise UsageError(f"unknown --fail-on {fail_on!r}; choose one of {', '.join(FAIL_ON)}")
    before, after = load_contract(old), load_contract(new)
    if after.problems and not allow_invalid:
        verdict = "not a valid OpenAPI document, so nothing was compared"
        hint = "fix it, or pass --allow-invalid to compare it anyway"
        raise UnreadableSpec(verdict, (*after.problems, Diagnostic(new, "", verdict, hint)))
    for contract in (before, after):
        for problem in contract.problems:
            say(f"warning: {problem}", style="yellow")
    result = diff_contracts(before, after)
    stream = out if out is not None else sys.stdout
    stream.write(render(result, output_format))
    failing = FAIL_ON[fail_on]
    return EXIT_FAILED if any(c.level in failing for c in result.changes) else EXIT_OK


def diff_contracts(old: Contract, new: Contract) -> DiffResult:
    try:
        changes = compare_documents(old.document, new.document)
    except RecursionError:
        raise UnreadableSpec(f"{old.label} → {new.label}: nested too deeply to compare") from None
    return DiffResult(old.label, new.label, tuple(changes))
