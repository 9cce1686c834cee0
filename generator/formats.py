"""`--format json` of `contract validate` and `contract check`: one JSON object on stdout.

The same facts as the text lines, for machines: every problem with its file, JSON pointer,
message, hint and level; the exit code the command returns. Invalid or unreadable documents are
JSON too (exit 1 or 2), so a CI step parses stdout whatever happened.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from generator.spec.errors import ContractError, Diagnostic

FORMATS = ("text", "json")


def diagnostic(item: Diagnostic) -> dict[str, str]:
    return {
        "file": item.file,
        "pointer": item.pointer,
        "message": item.message,
        "hint": item.hint,
        "level": item.level,
    }


def problems_of(error: ContractError, file: str) -> list[dict[str, str]]:
    """Each diagnostic of `error`, or its message as one problem of `file`."""
    if error.diagnostics:
        return [diagnostic(d) for d in error.diagnostics]
    return [{"file": file, "pointer": "", "message": error.message, "hint": "", "level": "error"}]


def dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def validate_json(
    spec: str,
    *,
    version: str | None,
    warnings: Sequence[Diagnostic] = (),
    error: ContractError | None = None,
) -> str:
    return dump(
        {
            "spec": spec,
            "valid": error is None,
            "exit_code": 0 if error is None else error.exit_code,
            "openapi": version,
            "problems": problems_of(error, spec) if error is not None else [],
            "warnings": [diagnostic(w) for w in warnings],
        }
    )


def check_json(
    spec: str,
    out: str,
    *,
    changed: Sequence[str] = (),
    missing: Sequence[str] = (),
    extra: Sequence[str] = (),
    diff: Sequence[str] = (),
    warnings: Sequence[Diagnostic] = (),
    error: ContractError | None = None,
) -> str:
    stale = bool(changed or missing or extra)
    code = error.exit_code if error is not None else (1 if stale else 0)
    return dump(
        {
            "spec": spec,
            "out": out,
            "up_to_date": error is None and not stale,
            "exit_code": code,
            "changed": list(changed),
            "missing": list(missing),
            "extra": list(extra),
            "diff": list(diff),
            "problems": problems_of(error, spec) if error is not None else [],
            "warnings": [diagnostic(w) for w in warnings],
        }
    )
