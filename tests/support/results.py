"""Run results built by hand in the shape of a real run, for the renderers (no server needed)."""

from __future__ import annotations

import json
from typing import Any

from conformance import failures
from conformance.results import Finding, OperationCoverage, Redactor, RunResult
from generator.spec.openapi import iter_operations
from tests.conftest import SHARED

AGNO = SHARED / "contracts" / "agno-agentos-3.1.10.json"
CHECKS = (
    "declared_status",
    "declared_schema",
    "declared_content_type",
    "auth_required",
    "undeclared_method",
    "no_server_error",
    "invalid_request_rejected",
    "request_timeout",
)


def agno_shaped_result(hostile: str = "") -> RunResult:
    """Agno's 131 operations and 13 status codes, a realistic spread of counts and findings.

    `hostile` goes into a finding's message, a response excerpt and a note, as a server's text
    would.
    """
    document: dict[str, Any] = json.loads(AGNO.read_text(encoding="utf-8"))
    result = RunResult(
        spec=str(AGNO.name),
        base_url="http://127.0.0.1:7777",
        seed=42,
        max_examples=20,
        workers=2,
        request_timeout=10.0,
        checks=CHECKS,
        phases=["examples", "coverage", "fuzzing", "examples (free values)"],
        command="contract conform agno-agentos-3.1.10.json --url http://127.0.0.1:7777 --seed 42",
        requests=0,
        duration=93.4,
    )
    redactor = Redactor("secret-token")
    for number, ref in enumerate(iter_operations(document)):
        label = f"{ref.method.upper()} {ref.path}"
        declared = tuple((ref.operation.get("responses") or {}).keys())
        row = OperationCoverage(label, declared)
        for index, key in enumerate(declared):
            if (number + index) % 3:
                for _ in range(1 + (number * 7 + index) % 40):
                    row.record(int(key), key)
        if number % 5 == 0:
            row.record(405, None)
        result.coverage[label] = row
        result.requests += row.requests
        if number % 9 == 0:
            kind = (failures.UndeclaredStatus, failures.SchemaMismatch, failures.ServerError)[
                number // 9 % 3
            ]
            exchange = redactor.exchange(
                method=ref.method,
                url=f"http://127.0.0.1:7777{ref.path}?limit=3",
                request_headers={"Authorization": "Bearer secret-token"},
                request_body=None,
                status=500 if kind is failures.ServerError else 422,
                response_headers={"content-type": "application/json"},
                response_body=f'{{"detail": "boom {hostile}"}}'.encode(),
            )
            result.findings.append(
                Finding(
                    check=kind.check,
                    operation=label,
                    title=kind.kind_title,
                    message=f"Received {exchange.status} where the operation declares "
                    f"{', '.join(declared)}; the body was not what the schema says {hostile}",
                    severity="high",
                    code=kind.code,
                    key=f"{number}",
                    phase="fuzzing",
                    exchange=exchange,
                    occurrences=1 + number % 4,
                )
            )
    result.notes.append(f"GET /sessions: no accepted request to base probes on {hostile}")
    result.errors.append(
        "GET /agents/{agent_id}: the response body is not UTF-8 (sent: curl -sS -i -X GET "
        "'http://127.0.0.1:7777/agents/x'); the server must encode text as its charset says"
    )
    return result
