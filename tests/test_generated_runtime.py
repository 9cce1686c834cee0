"""The runtime as a generated package binds it, where HTTP cannot observe it directly.

The runtime's own pieces are tested on the module itself in test_server_runtime.py.
"""

from __future__ import annotations

import pytest


def test_an_implementation_missing_operations_fails_at_start() -> None:
    from generated.agentos import create_app

    class DuckTyped:  # not a subclass: mypy would flag it, the app must too
        async def get_workflows(self) -> object:
            return None

        def cancel_workflow_run(self) -> object:  # not async: cannot be awaited
            return None

    with pytest.raises(TypeError) as refused:
        create_app(DuckTyped(), token="t")  # type: ignore[arg-type]
    assert str(refused.value) == (
        "DuckTyped does not implement: cancel_workflow_run, create_workflow_run, get_workflow_run"
    )
