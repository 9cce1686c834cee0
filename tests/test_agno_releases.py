"""The AgentOS documents of three agno releases, diffed in sequence: the breaking verdicts of
docs/third-party/agno-releases.md, each checked there (by hand, against served releases, or
marked as resting on the documents alone).

The documents were dumped by examples/agno/dump_openapi.py from agno[os] 2.8.7, 3.0.11 and
3.1.10; they are test data, not fetched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from generator.diff.command import run_diff
from generator.diff.rules import BREAKING
from generator.diff.walk import compare_documents

SPECS = Path(__file__).resolve().parent / "specs" / "agno"
RELEASES = ("2.8.7", "3.0.11", "3.1.10")
S = "/components/schemas"

# (rule, pointer) of every distinct breaking change, as the write-up lists them
BREAKING_2_TO_3_0 = {
    ("api-path-removed", "/paths/~1/get"),
    ("api-path-removed", "/paths/~1models/get"),
    ("request-property-type-changed", f"{S}/Body_create_agent_run/properties/version/anyOf/0"),
    (
        "response-property-union-branch-added",
        f"{S}/ValidationErrorResponse/properties/detail/anyOf/1",
    ),
    ("response-property-enum-value-added", f"{S}/RegistryResourceType"),
    ("response-property-type-changed", f"{S}/Model"),
    ("response-property-enum-value-added", f"{S}/ContentStatus"),
    ("response-property-became-optional", f"{S}/VectorSearchResult/properties/id"),
    ("response-property-became-nullable", f"{S}/VectorSearchResult/properties/id/anyOf/0"),
    (
        "response-property-minimum-relaxed",
        f"{S}/VectorSearchResult/properties/reranking_score/anyOf/0",
    ),
}
BREAKING_3_0_TO_3_1 = {
    *(
        ("response-required-property-removed", f"{S}/ConfigResponse/properties/{name}")
        for name in ("os_id", "databases", "agents", "teams", "workflows", "interfaces")
    ),
    ("response-property-became-optional", f"{S}/ScheduleResponse/properties/cron_expr"),
    ("response-property-became-nullable", f"{S}/ScheduleResponse/properties/cron_expr/anyOf/0"),
}


def load(release: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SPECS / f"agno-{release}.json").read_text("utf-8"))
    return document


@pytest.mark.parametrize(
    ("old", "new", "expected", "count"),
    [
        ("2.8.7", "3.0.11", BREAKING_2_TO_3_0, 111),
        ("3.0.11", "3.1.10", BREAKING_3_0_TO_3_1, 14),
    ],
)
def test_the_breaking_changes_between_releases(
    old: str, new: str, expected: set[tuple[str, str]], count: int
) -> None:
    changes = compare_documents(load(old), load(new))
    breaking = [c for c in changes if c.level == BREAKING]
    assert {(c.id, c.pointer) for c in breaking} == expected
    assert len(breaking) == count  # a shared component, once per operation using it
    assert not any(c.id == "unclassified-change" for c in changes)


def test_the_validation_error_change_is_reported_for_every_operation() -> None:
    changes = compare_documents(load("2.8.7"), load("3.0.11"))
    detail = [c for c in changes if c.id == "response-property-union-branch-added"]
    assert len({c.operation for c in detail}) == 96
    assert all(c.location.endswith('property "detail"') for c in detail)


@pytest.mark.slow
def test_the_command_exits_1_on_each_step(capsys: pytest.CaptureFixture[str]) -> None:
    """The documents repeat an operationId, so they are compared with allow_invalid."""
    for old, new in zip(RELEASES, RELEASES[1:], strict=False):
        code = run_diff(
            str(SPECS / f"agno-{old}.json"),
            str(SPECS / f"agno-{new}.json"),
            "json",
            allow_invalid=True,
        )
        assert code == 1
        data = json.loads(capsys.readouterr().out)
        assert data["summary"]["breaking"] == (111 if old == "2.8.7" else 14)
