"""The peer for benchmarks/serve.py: the same reference executor behind hand-written FastAPI routes.

Same store, executor, bodies and statuses as the generated app + reference; what differs is only
the layer the generator writes (security guard, declared-response rendering, error mapping).
Routes are written the way a careful FastAPI user would: a bearer dependency with a constant-time
comparison, path parameters, responses serialised straight from the pydantic models.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.responses import JSONResponse, Response

from reference.app import attach_executor, build_executor
from reference.executor import RunNotActive, RunNotFound, WorkflowExecutor, WorkflowNotFound
from reference.views import run_started, run_view

bearer = HTTPBearer(auto_error=False)


class Unauthenticated(Exception):
    pass


def _error(status: int, detail: str, code: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"detail": detail, "error_code": code}, status, headers=headers)


def create(db_path: str, token: str) -> FastAPI:
    executor: WorkflowExecutor = build_executor(db_path)
    expected = token.encode()
    app = FastAPI()

    async def authenticated(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        if credentials is None or not hmac.compare_digest(
            credentials.credentials.encode(), expected
        ):
            raise Unauthenticated

    async def unauthenticated(request: Request, exc: Exception) -> Response:
        headers = {"WWW-Authenticate": "Bearer"}
        return _error(401, "Not authenticated", "UNAUTHENTICATED", headers)

    app.add_exception_handler(Unauthenticated, unauthenticated)

    @app.post("/workflows/{workflow_id}/runs", dependencies=[Depends(authenticated)])
    async def create_workflow_run(workflow_id: str, request: Request) -> Response:
        form = parse_qs((await request.body()).decode())
        if "message" not in form:
            return _error(422, "message: Field required", "VALIDATION_ERROR")
        try:
            record = await executor.start(workflow_id, message=form["message"][0])
        except WorkflowNotFound:
            return _error(404, f"workflow {workflow_id!r} not found", "WORKFLOW_NOT_FOUND")
        if form.get("background", ["false"])[0].lower() == "true":
            return Response(
                run_started(record).model_dump_json(), 202, media_type="application/json"
            )
        finished = await executor.wait(record.run_id)
        return Response(run_view(finished).model_dump_json(), media_type="application/json")

    @app.post(
        "/workflows/{workflow_id}/runs/{run_id}/cancel", dependencies=[Depends(authenticated)]
    )
    async def cancel_workflow_run(workflow_id: str, run_id: str) -> Response:
        try:
            record = await executor.cancel(workflow_id, run_id)
        except WorkflowNotFound:
            return _error(404, f"workflow {workflow_id!r} not found", "WORKFLOW_NOT_FOUND")
        except RunNotFound:
            return _error(404, f"run {run_id!r} not found", "RUN_NOT_FOUND")
        except RunNotActive as error:
            detail = f"the run is {error.status.value} and can no longer be cancelled"
            return _error(400, detail, "RUN_NOT_ACTIVE")
        return Response(run_view(record).model_dump_json(), media_type="application/json")

    return attach_executor(app, executor)
