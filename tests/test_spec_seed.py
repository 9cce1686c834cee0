"""spec/agentos.yaml keeps the documented seed operation, error schemas and scheme verbatim."""

from __future__ import annotations

import yaml

from tests.conftest import REPO, SHARED

SEED_PATH = "/workflows/{workflow_id}/runs/{run_id}/cancel"
ERROR_SCHEMAS = (
    "BadRequestResponse",
    "UnauthenticatedResponse",
    "NotFoundResponse",
    "ValidationErrorResponse",
    "InternalServerErrorResponse",
)


def _load(path: str) -> dict:  # type: ignore[type-arg]
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)  # type: ignore[no-any-return]


def test_seed_operation_error_schemas_and_security_are_unchanged() -> None:
    seed = _load(str(SHARED / "contracts" / "agentos-cancel-workflow-run.yaml"))
    ours = _load(str(REPO / "spec" / "agentos.yaml"))
    assert ours["paths"][SEED_PATH]["post"] == seed["paths"][SEED_PATH]["post"]
    for name in ERROR_SCHEMAS:
        assert ours["components"]["schemas"][name] == seed["components"]["schemas"][name], name
    assert ours["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert ours["openapi"] == seed["openapi"]
