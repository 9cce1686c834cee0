"""The runtime module itself (`generator.codegen.server_runtime`), tested directly.

Every generated package holds a byte-for-byte copy of it as `runtime.py`; what only a served app
can show (routing, FastAPI's validation, uvicorn) is tested over HTTP in test_generated_app_http.py
and test_hostile_requests.py.
"""

from __future__ import annotations

import ast
import asyncio
import hmac
import json
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar, TypeVar

import pytest
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from starlette.requests import Request
from starlette.responses import Response

from generator.codegen import server_runtime as runtime
from generator.codegen.render import RUNTIME_MODULE

T = TypeVar("T")

# --- what it may import ----------------------------------------------------------------------


def test_it_imports_only_the_stdlib_fastapi_starlette_and_pydantic() -> None:
    """The copy is the whole runtime of a package, which must not need the toolkit to run."""
    tree = ast.parse(RUNTIME_MODULE.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import would not resolve inside a package"
            assert node.module is not None
            imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"__future__"}
    assert third_party == {"fastapi", "pydantic", "starlette"}


def test_the_module_is_the_file_the_generator_copies() -> None:
    assert runtime.__file__ == str(RUNTIME_MODULE)


# --- helpers ---------------------------------------------------------------------------------


def make_request(
    *,
    headers: dict[str, str] | None = None,
    query: str = "",
    body: bytes | list[bytes] = b"",
) -> Request:
    """A Starlette request from a bare ASGI scope; `body` as one chunk or several."""
    chunks = body if isinstance(body, list) else [body]
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    return Request(scope, receive)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def body_of(response: Response) -> Any:
    return json.loads(bytes(response.body))


class Problem(BaseModel):
    message: str
    code: str | None = None


class Ok200(runtime.ContractResponse):
    status_range: ClassVar[tuple[int, int]] = (200, 200)
    media_types: ClassVar[tuple[str, ...]] = ("application/json", "text/plain")
    body: Any


class Created201(runtime.ContractResponse):
    status_range: ClassVar[tuple[int, int]] = (201, 201)
    media_types: ClassVar[tuple[str, ...]] = ()


class Bad400(runtime.ContractResponse):
    status_range: ClassVar[tuple[int, int]] = (400, 400)
    media_types: ClassVar[tuple[str, ...]] = ("application/json",)
    error_fields: ClassVar[tuple[str, str | None] | None] = ("message", "code")
    body: Problem


class Client4XX(runtime.ContractResponse):
    status_range: ClassVar[tuple[int, int]] = (400, 499)
    media_types: ClassVar[tuple[str, ...]] = ("application/json",)
    error_fields: ClassVar[tuple[str, str | None] | None] = ("message", None)
    status_code: int
    body: Problem


class Default(runtime.ContractResponse):
    status_range: ClassVar[tuple[int, int]] = (100, 599)
    media_types: ClassVar[tuple[str, ...]] = ("application/json",)
    status_code: int
    body: dict[str, Any]


class Aliased(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    run_id: str = Field(alias="run-id")
    note: str | None = None


# --- credentials and verifiers ---------------------------------------------------------------


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("generator.codegen.server_runtime.hmac.compare_digest", spy)
    schemes = {"HTTPBearer": runtime.SecurityScheme(kind="bearer")}
    verify = runtime.build_verifiers(schemes, "s3cret", None, None)["HTTPBearer"]
    assert verify("s3cret") is True
    assert verify("s3creX") is False
    assert verify("a-much-longer-guess") is False
    assert len(calls) == 3
    # digests of equal length: neither the content nor the length of the token leaks by timing
    assert all(len(a) == len(b) == 32 for a, b in calls)


def test_constant_time_equals_takes_any_text() -> None:
    assert runtime.constant_time_equals("\ud800lone surrogate", "\ud800lone surrogate")
    assert not runtime.constant_time_equals("", "x")
    assert runtime.constant_time_equals("", "")


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


def test_explicit_verifiers_win_and_the_token_serves_only_bearer_schemes() -> None:
    def mine(given: str) -> bool:
        return given == "k"

    schemes = {
        "bearer": runtime.SecurityScheme(kind="bearer"),
        "other": runtime.SecurityScheme(kind="bearer"),
        "key": runtime.SecurityScheme(kind="apiKey", location="header", name="X-Key"),
        "basic": runtime.SecurityScheme(kind="basic"),
    }
    verifiers = runtime.build_verifiers(schemes, "t", None, {"bearer": mine, "key": mine})
    assert set(verifiers) == {"bearer", "other", "key"}
    assert verifiers["bearer"] is mine and verifiers["key"] is mine
    assert verifiers["other"]("t") is True and verifiers["other"]("k") is False


@pytest.mark.parametrize(
    ("scheme", "headers", "query", "expected"),
    [
        (runtime.SecurityScheme("bearer"), {"Authorization": "Bearer t0k"}, "", "t0k"),
        (runtime.SecurityScheme("bearer"), {"Authorization": "bEaReR  t0k "}, "", "t0k"),
        (runtime.SecurityScheme("bearer"), {"Authorization": "Bearer "}, "", None),
        (runtime.SecurityScheme("bearer"), {"Authorization": "Basic t0k"}, "", None),
        (runtime.SecurityScheme("bearer"), {}, "", None),
        (runtime.SecurityScheme("basic"), {"Authorization": "Basic dTpw"}, "", "dTpw"),
        (runtime.SecurityScheme("apiKey", "header", "X-Key"), {"x-key": "k"}, "", "k"),
        (runtime.SecurityScheme("apiKey", "query", "key"), {}, "key=k&other=1", "k"),
        (runtime.SecurityScheme("apiKey", "cookie", "sid"), {"Cookie": "sid=k; a=b"}, "", "k"),
        (runtime.SecurityScheme("apiKey", "header", None), {"X-Key": "k"}, "", None),
        (runtime.SecurityScheme("unsupported"), {"Authorization": "Bearer t"}, "", None),
    ],
)
def test_where_each_scheme_finds_its_credential(
    scheme: runtime.SecurityScheme, headers: dict[str, str], query: str, expected: str | None
) -> None:
    assert scheme.credential(make_request(headers=headers, query=query)) == expected


def test_challenges() -> None:
    assert runtime.SecurityScheme("bearer").challenge == "Bearer"
    assert runtime.SecurityScheme("basic").challenge == 'Basic realm="api"'
    assert runtime.SecurityScheme("apiKey", "header", "X").challenge is None
    schemes = {
        "b": runtime.SecurityScheme("bearer"),
        "b2": runtime.SecurityScheme("bearer"),
        "basic": runtime.SecurityScheme("basic"),
        "key": runtime.SecurityScheme("apiKey", "header", "X"),
    }
    guard = runtime.Guard(schemes, {})
    assert guard.challenges((("b",), ("b2", "basic"), ("unknown",))) == 'Basic realm="api", Bearer'
    assert guard.challenges((("key",),)) is None
    assert guard.challenges(()) is None


# --- the guard -------------------------------------------------------------------------------


def _guard(**verifiers: runtime.Verifier) -> runtime.Guard:
    schemes = {
        "bearer": runtime.SecurityScheme("bearer"),
        "key": runtime.SecurityScheme("apiKey", "header", "X-Key"),
        "nobody": runtime.SecurityScheme("basic"),
    }
    return runtime.Guard(schemes, verifiers)


def _is(value: str) -> Callable[[str], bool]:
    return lambda given: given == value


def test_no_requirement_admits_everyone() -> None:
    assert run(_guard().allows(make_request(), ())) is True


def test_requirements_are_alternatives_of_schemes_that_must_all_pass() -> None:
    guard = _guard(bearer=_is("t"), key=_is("k"))
    both = (("bearer", "key"),)
    either = (("bearer",), ("key",))
    full = make_request(headers={"Authorization": "Bearer t", "X-Key": "k"})
    key_only = make_request(headers={"X-Key": "k"})
    assert run(guard.allows(full, both)) is True
    assert run(guard.allows(key_only, both)) is False
    assert run(guard.allows(key_only, either)) is True
    assert run(guard.allows(make_request(headers={"X-Key": "no"}), either)) is False


def test_a_scheme_nobody_can_verify_or_that_is_undeclared_admits_nobody() -> None:
    guard = _guard(bearer=_is("t"))
    request = make_request(headers={"Authorization": "Basic t"})
    assert run(guard.allows(request, (("nobody",),))) is False
    assert run(guard.allows(request, (("undeclared",),))) is False


def test_only_a_verdict_of_true_admits() -> None:
    async def maybe(given: str) -> bool:
        return given == "t"

    def truthy(given: str) -> Any:
        return "yes"  # not True: refused

    request = make_request(headers={"Authorization": "Bearer t"})
    assert run(_guard(bearer=maybe).allows(request, (("bearer",),))) is True
    assert run(_guard(bearer=truthy).allows(request, (("bearer",),))) is False


# --- rendering declared responses ------------------------------------------------------------


def test_a_declared_json_body_is_dumped_by_alias_without_unset_fields() -> None:
    response = Ok200(
        body=Aliased.model_validate({"run-id": "r1"}), headers={"X-Trace": "1"}
    ).render()
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-trace"] == "1"
    assert body_of(response) == {"run-id": "r1"}


def test_text_and_bytes_bodies_are_sent_as_they_are() -> None:
    text = Ok200(body="héllo", content_type="text/plain").render()
    assert bytes(text.body) == "héllo".encode() and text.media_type == "text/plain"
    raw = Ok200(body=b"\x00\x01").render()
    assert bytes(raw.body) == b"\x00\x01"
    as_json = Ok200(body="héllo").render()  # a string under a JSON type is a JSON string
    assert body_of(as_json) == "héllo"


def test_a_response_without_body_or_media_type_is_empty() -> None:
    response = Created201().render()
    assert response.status_code == 201 and bytes(response.body) == b""
    assert Created201.body_adapter() is None


def test_a_ranged_response_needs_a_status_inside_its_range() -> None:
    assert Client4XX(status_code=418, body=Problem(message="m")).render().status_code == 418
    with pytest.raises(runtime.UndeclaredResponse, match="status 500 is outside 400-499"):
        Client4XX(status_code=500, body=Problem(message="m")).render()


def test_an_undeclared_content_type_is_refused() -> None:
    with pytest.raises(runtime.UndeclaredResponse, match="'text/html' is not declared"):
        Ok200(body="x", content_type="text/html").render()


def test_the_body_adapter_is_cached_per_class() -> None:
    adapter = Bad400.body_adapter()
    assert isinstance(adapter, TypeAdapter) and Bad400.body_adapter() is adapter
    assert Client4XX.body_adapter() is not adapter


def test_status_without_a_status_code_is_a_type_error() -> None:
    class Unpinned(runtime.ContractResponse):
        status_range: ClassVar[tuple[int, int]] = (200, 299)

    with pytest.raises(TypeError, match="Unpinned needs a status_code"):
        _ = Unpinned().status


# --- operation contracts ---------------------------------------------------------------------


def _contract(*responses: type[runtime.ContractResponse]) -> runtime.OperationContract:
    return runtime.OperationContract("op", "POST", "/op", responses)


def test_a_result_of_an_undeclared_class_becomes_a_500(caplog: pytest.LogCaptureFixture) -> None:
    contract = _contract(Ok200)
    with caplog.at_level(logging.ERROR, logger="contract.server"):
        response = contract.render(Created201())
    assert response.status_code == 500
    assert body_of(response) == {
        "detail": "Internal server error",
        "error_code": "INTERNAL_SERVER_ERROR",
    }
    assert "op (POST /op) returned Created201, which the contract does not declare" in caplog.text


def test_a_declared_class_that_cannot_render_becomes_a_500() -> None:
    contract = _contract(Ok200)
    assert contract.render(Ok200(body=1)).status_code == 200
    assert contract.render(Ok200(body="x", content_type="text/html")).status_code == 500


def test_errors_use_the_first_declared_status_and_its_error_fields() -> None:
    contract = _contract(Ok200, Bad400, Client4XX)
    exact = contract.error((422, 400), "nope", "VALIDATION_ERROR", {"X-Why": "1"})
    assert exact.status_code == 422  # 4XX declares 422 before the exact 400 is tried
    assert body_of(exact) == {"message": "nope"}  # Client4XX has no code field
    assert exact.headers["x-why"] == "1"
    bad = contract.error((400, 422), "nope", "VALIDATION_ERROR")
    assert bad.status_code == 400
    assert body_of(bad) == {"message": "nope", "code": "VALIDATION_ERROR"}


def test_an_exact_status_beats_a_range_and_a_narrow_range_a_wide_one() -> None:
    contract = _contract(Default, Client4XX, Bad400)
    assert contract._declared(400) is Bad400
    assert contract._declared(404) is Client4XX
    assert contract._declared(503) is Default
    assert _contract(Ok200)._declared(404) is None


def test_default_error_fields_are_detail_and_error_code() -> None:
    response = _contract(Default).error((409,), "taken", "CONFLICT")
    assert response.status_code == 409
    assert body_of(response) == {"detail": "taken", "error_code": "CONFLICT"}


def test_without_a_usable_declared_error_the_plain_error_is_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    undeclared = _contract(Ok200).error((401,), "Not authenticated", "UNAUTHENTICATED")
    assert undeclared.status_code == 401
    assert body_of(undeclared) == {"detail": "Not authenticated", "error_code": "UNAUTHENTICATED"}

    class Strict401(runtime.ContractResponse):  # a body the app cannot fill
        status_range: ClassVar[tuple[int, int]] = (401, 401)
        media_types: ClassVar[tuple[str, ...]] = ("application/json",)
        body: int

    with caplog.at_level(logging.ERROR, logger="contract.server"):
        fallback = _contract(Strict401).error((401,), "Not authenticated", "UNAUTHENTICATED")
    assert fallback.status_code == 401 and body_of(fallback)["error_code"] == "UNAUTHENTICATED"
    assert "cannot build the declared 401 body" in caplog.text


def test_not_implemented_is_a_plain_501() -> None:
    response = _contract(Ok200).not_implemented()
    assert response.status_code == 501
    assert body_of(response) == {
        "detail": "operation 'op' is not implemented",
        "error_code": "NOT_IMPLEMENTED",
    }


def test_plain_error() -> None:
    response = runtime.plain_error(
        405, "Method Not Allowed", "METHOD_NOT_ALLOWED", {"Allow": "GET"}
    )
    assert response.status_code == 405 and response.headers["allow"] == "GET"
    assert response.headers["content-type"] == "application/json"
    assert body_of(response) == {"detail": "Method Not Allowed", "error_code": "METHOD_NOT_ALLOWED"}


# --- small pure helpers ----------------------------------------------------------------------


def test_validation_errors_read_as_one_line() -> None:
    errors = [
        {"loc": ("query", "limit"), "msg": "Input should be greater than 0"},
        {"loc": ("body", "name"), "msg": "Field required"},
        {"loc": ("body",)},
    ]
    assert runtime.describe_validation_errors(errors) == (
        "query.limit: Input should be greater than 0; name: Field required; request: invalid"
    )
    assert runtime.describe_validation_errors([]) == "invalid request"
    many = [{"loc": ("query", f"p{i}"), "msg": "bad"} for i in range(12)]
    assert runtime.describe_validation_errors(many).count("bad") == 10


@pytest.mark.parametrize(
    ("media_type", "is_json"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/problem+json", True),
        ("*/*", True),
        ("text/plain", False),
        ("application/jsonl", False),
    ],
)
def test_is_json(media_type: str, is_json: bool) -> None:
    assert runtime._is_json(media_type) is is_json


def test_is_form() -> None:
    assert runtime._is_form("application/x-www-form-urlencoded; charset=utf-8")
    assert not runtime._is_form("multipart/form-data")


def test_require_operations() -> None:
    class Impl:
        async def good(self) -> None:
            return None

        def not_async(self) -> None:
            return None

    runtime.require_operations(None, ("anything",))  # no implementation: every operation is 501
    runtime.require_operations(Impl(), ("good",))
    with pytest.raises(TypeError, match="^Impl does not implement: missing, not_async$"):
        runtime.require_operations(Impl(), ("good", "not_async", "missing"))


# --- reading bodies --------------------------------------------------------------------------

JSON = {"Content-Type": "application/json"}
ALIASED = TypeAdapter(Aliased)


def _rejected(coroutine: Coroutine[Any, Any, Any]) -> runtime.RequestRejected:
    with pytest.raises(runtime.RequestRejected) as rejected:
        run(coroutine)
    return rejected.value


def test_a_json_body_is_validated_strictly() -> None:
    ok = make_request(headers=JSON, body=b'{"run-id": "r1"}')
    parsed = run(runtime.read_json_body(ok, ALIASED, required=True, max_bytes=100))
    assert parsed == Aliased.model_validate({"run-id": "r1"})
    ints = TypeAdapter(int)
    strict = make_request(headers=JSON, body=b"false")
    refused = _rejected(runtime.read_json_body(strict, ints, required=True, max_bytes=100))
    assert (refused.statuses, refused.code) == ((422, 400), "VALIDATION_ERROR")
    malformed = make_request(headers=JSON, body=b"{")
    refused = _rejected(runtime.read_json_body(malformed, ints, required=True, max_bytes=100))
    assert (refused.statuses, refused.code) == ((400, 422), "MALFORMED_JSON")


def test_a_missing_body_is_none_when_optional_and_refused_when_required() -> None:
    assert run(runtime.read_json_body(make_request(), ALIASED, required=False, max_bytes=9)) is None
    assert run(runtime.read_binary_body(make_request(), required=False, max_bytes=9)) is None
    refused = _rejected(runtime.read_json_body(make_request(), ALIASED, required=True, max_bytes=9))
    assert refused.detail == "body: a request body is required" and refused.statuses == (422, 400)


def test_a_body_of_another_content_type_is_refused() -> None:
    request = make_request(headers={"Content-Type": "text/xml"}, body=b"<x/>")
    refused = _rejected(runtime.read_json_body(request, ALIASED, required=True, max_bytes=100))
    assert refused.statuses == (415, 400, 422) and refused.code == "UNSUPPORTED_MEDIA_TYPE"
    untyped = make_request(body=b'{"run-id": "r"}')  # no content type: read as declared
    assert run(runtime.read_json_body(untyped, ALIASED, required=True, max_bytes=100)).run_id == "r"


def test_an_oversized_body_is_refused_by_its_length_or_while_streaming() -> None:
    declared = make_request(headers={"Content-Length": "11"}, body=b"x" * 11)
    refused = _rejected(runtime.read_binary_body(declared, required=True, max_bytes=10))
    assert refused.statuses == (413, 400, 422) and refused.detail == "body larger than 10 bytes"
    streamed = make_request(body=[b"x" * 6, b"x" * 5])  # no Content-Length to trust
    assert _rejected(runtime.read_binary_body(streamed, required=True, max_bytes=10)).code == (
        "TOO_LARGE"
    )
    exact = make_request(body=[b"x" * 5, b"x" * 5])
    assert run(runtime.read_binary_body(exact, required=True, max_bytes=10)) == b"x" * 10


def test_a_form_body_keeps_the_first_value_of_each_field() -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    request = make_request(headers=form, body=b"run-id=a&run-id=b&note=")
    parsed = run(runtime.read_form_body(request, ALIASED, required=True, max_bytes=100))
    assert parsed == Aliased.model_validate({"run-id": "a", "note": ""})
    not_utf8 = make_request(headers=form, body=b"run-id=\xff")
    refused = _rejected(runtime.read_form_body(not_utf8, ALIASED, required=True, max_bytes=100))
    assert refused.code == "MALFORMED_BODY"


def test_a_text_body_must_be_utf8() -> None:
    text = make_request(body="é".encode())
    assert run(runtime.read_text_body(text, required=True, max_bytes=10)) == "é"
    refused = _rejected(
        runtime.read_text_body(make_request(body=b"\xff"), required=True, max_bytes=9)
    )
    assert (refused.statuses, refused.code) == ((400, 422), "MALFORMED_BODY")
