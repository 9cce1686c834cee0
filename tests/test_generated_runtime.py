"""Unit-level guarantees of the generated runtime that HTTP cannot observe directly."""

from __future__ import annotations

import asyncio
import hmac

import pytest

from generated.agentos import runtime


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(runtime.hmac, "compare_digest", spy)
    schemes = {"HTTPBearer": runtime.SecurityScheme(kind="bearer")}
    verify = runtime.build_verifiers(schemes, "s3cret", None, None)["HTTPBearer"]
    assert verify("s3cret") is True
    assert verify("s3creX") is False
    assert verify("a-much-longer-guess") is False
    assert len(calls) == 3
    # digests of equal length: neither the content nor the length of the token leaks by timing
    assert all(len(a) == len(b) == 32 for a, b in calls)


def test_custom_async_verifier_is_used() -> None:
    async def verify(token: str) -> bool:
        await asyncio.sleep(0)
        return token == "from-vault"

    schemes = {"HTTPBearer": runtime.SecurityScheme(kind="bearer")}
    verifiers = runtime.build_verifiers(schemes, "ignored", verify, None)
    assert verifiers["HTTPBearer"] is verify


def test_a_scheme_without_verifier_admits_nobody() -> None:
    schemes = {"HTTPBearer": runtime.SecurityScheme(kind="bearer")}
    assert runtime.build_verifiers(schemes, None, None, None) == {}
    assert runtime.build_verifiers(schemes, "", None, None) == {}


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
