"""A small Starlette server that conforms to `contract.yaml`; broken servers override one method.

Known data: workflow `demo` with run `run-1` (active: cancel answers 200) and `run-done`
(finished: 400 RUN_NOT_ACTIVE). The bearer token comes from $CONFORMANCE_TEST_TOKEN. When
$CONFORMANCE_REQUEST_LOG names a file, every request line (method, path, query, body) is appended to
it, which lets a test compare what two runs sent.
"""

from __future__ import annotations

import hmac
import os
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN_VARIABLE = "CONFORMANCE_TEST_TOKEN"
LOG_VARIABLE = "CONFORMANCE_REQUEST_LOG"
WORKFLOWS = [
    {"id": "demo", "name": "Demo", "description": "three steps"},
    {"id": "other", "name": "Other", "description": None},
]
RUNS = {"run-1": "RUNNING", "run-done": "COMPLETED"}
# How frameworks read a boolean form field (pydantic, Django, Rails all accept these spellings).
BOOLEANS = {"true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n"}
OTHER_METHODS = ["GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "QUERY"]


def error(status: int, detail: str, code: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"detail": detail, "error_code": code}, status, headers=headers)


class Server:
    def __init__(self, token: str) -> None:
        self.token = token

    # --- the behaviours a broken server overrides -------------------------------------------

    async def authenticate(self, request: Request) -> Response | None:
        """None when the request carries `Bearer <token>`, else the declared 401."""
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.encode(), self.token.encode()):
            return None
        return error(401, "Not authenticated", "UNAUTHENTICATED", {"WWW-Authenticate": "Bearer"})

    async def list_workflows(self, request: Request) -> Response:
        values = request.query_params.getlist("limit")
        limit = 100
        if values:
            raw = values[0]
            if (
                len(values) > 1
                or not raw.isascii()
                or not raw.isdigit()
                or not 1 <= int(raw) <= 100
            ):
                return error(422, "query.limit: an integer from 1 to 100", "VALIDATION_ERROR")
            limit = int(raw)
        return JSONResponse(WORKFLOWS[:limit])

    async def start_run(self, request: Request) -> Response:
        if request.path_params["workflow_id"] != "demo":
            return self.not_found("workflow not found", "WORKFLOW_NOT_FOUND")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return error(422, "body: expected a form", "VALIDATION_ERROR")
        text = (await request.body()).decode("utf-8", errors="replace")
        fields: dict[str, str] = {}
        for name, value in parse_qsl(text, keep_blank_values=True):
            fields.setdefault(name, value)
        if "message" not in fields:
            return error(422, "body.message: required", "VALIDATION_ERROR")
        if fields.get("background", "false").lower() not in BOOLEANS:
            return error(422, "body.background: not a boolean", "VALIDATION_ERROR")
        return JSONResponse({"run_id": "run-1", "status": "RUNNING"}, 202)

    async def cancel(self, request: Request) -> Response:
        workflow_id = request.path_params["workflow_id"]
        run_id = request.path_params["run_id"]
        if workflow_id != "demo":
            return self.not_found("workflow not found", "WORKFLOW_NOT_FOUND")
        status = RUNS.get(run_id)
        if status is None:
            return self.not_found("run not found", "RUN_NOT_FOUND")
        if status == "COMPLETED":
            return error(400, "run is not active", "RUN_NOT_ACTIVE")
        return JSONResponse({"run_id": run_id, "status": "CANCELLED"})

    def not_found(self, detail: str, code: str) -> Response:
        return error(404, detail, code)

    async def other_method(self, request: Request, allowed: str) -> Response:
        return error(405, "Method Not Allowed", "METHOD_NOT_ALLOWED", {"Allow": allowed})

    # --- wiring -----------------------------------------------------------------------------

    def app(self) -> Starlette:
        def guarded(handler: Any) -> Any:
            async def endpoint(request: Request) -> Response:
                await self.log(request)
                rejection = await self.authenticate(request)
                if rejection is not None:
                    return rejection
                response: Response = await handler(request)
                return response

            return endpoint

        def others(allowed: str) -> Any:
            async def endpoint(request: Request) -> Response:
                await self.log(request)
                return await self.other_method(request, allowed)

            return endpoint

        cancel_path = "/workflows/{workflow_id}/runs/{run_id}/cancel"
        runs_path = "/workflows/{workflow_id}/runs"
        return Starlette(
            routes=[
                Route("/workflows", guarded(self.list_workflows), methods=["GET"]),
                Route(
                    "/workflows", others("GET"), methods=[m for m in OTHER_METHODS if m != "GET"]
                ),
                Route(runs_path, guarded(self.start_run), methods=["POST"]),
                Route(runs_path, others("POST"), methods=OTHER_METHODS),
                Route(cancel_path, guarded(self.cancel), methods=["POST"]),
                Route(cancel_path, others("POST"), methods=OTHER_METHODS),
            ]
        )

    async def log(self, request: Request) -> None:
        path = os.environ.get(LOG_VARIABLE)
        if not path:
            return
        body = await request.body()
        line = f"{request.method} {request.url.path}?{request.url.query} {body!r}\n"
        with open(path, "a", encoding="utf-8") as log:
            log.write(line)


def factory(server_class: type[Server]) -> Starlette:
    return server_class(os.environ[TOKEN_VARIABLE]).app()
