"""The reference implementation over real HTTP against `contract serve` (issue 3, "Done when")."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.reference_server import ReferenceServer, poll

# Shorter demo steps (1 s between progress ticks) so "nothing moves after the cancel" shows
# within two seconds; still long enough that the test cancels mid-step even on a busy machine.
STEP_SECONDS = "10"
RESEARCH = ("research-web", "research-papers", "research-code")
OPERATIONS = (
    ("GET", "/workflows"),
    ("POST", "/workflows/demo-parallel/runs"),
    ("GET", "/workflows/demo-parallel/runs/some-run"),
    ("POST", "/workflows/demo-parallel/runs/some-run/cancel"),
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceServer]:
    folder = tmp_path_factory.mktemp("reference-http")
    env = {"AGENTOS_DEMO_STEP_SECONDS": STEP_SECONDS}
    with ReferenceServer(folder / "agentos.db", folder / "server.log", env=env) as running:
        yield running
    log = running.log_text()
    assert "Traceback" not in log, log
    assert "database is locked" not in log, log


@pytest.fixture
def client(server: ReferenceServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def start(client: httpx.Client, workflow_id: str, **fields: str) -> httpx.Response:
    """A run answered as JSON (`stream=false`; tests/test_reference_stream.py reads streams)."""
    data = {"message": "agents", "stream": "false", **fields}
    return client.post(f"/workflows/{workflow_id}/runs", data=data)


def read_run(client: httpx.Client, workflow_id: str, run_id: str) -> dict[str, Any]:
    response = client.get(f"/workflows/{workflow_id}/runs/{run_id}")
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


def steps_by_name(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in run["steps"]}


def assert_error_body(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) <= {"detail", "error_code"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["error_code"] == code


# -- security -------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_answers_401_without_a_token(
    server: ReferenceServer, method: str, path: str
) -> None:
    response = httpx.request(method, server.url + path, data={"message": "m"})
    assert_error_body(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer wrong-token", "Bearer reference-test-token-but-longer", "Basic cmVmZXJlbmNl"],
)
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_answers_401_with_a_wrong_token(
    server: ReferenceServer, method: str, path: str, authorization: str
) -> None:
    headers = {"Authorization": authorization}
    response = httpx.request(method, server.url + path, headers=headers, data={"message": "m"})
    assert_error_body(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == "Bearer"


# -- reading --------------------------------------------------------------------------------


def test_get_workflows_lists_the_two_demo_workflows(client: httpx.Client) -> None:
    response = client.get("/workflows")
    assert response.status_code == 200
    workflows = {item["id"]: item for item in response.json()}
    assert set(workflows) == {"demo-parallel", "demo-sequential"}
    for item in workflows.values():
        assert set(item) == {"id", "name", "description"}
        assert item["name"] and item["description"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/workflows/no-such-workflow/runs"),
        ("GET", "/workflows/no-such-workflow/runs/some-run"),
        ("POST", "/workflows/no-such-workflow/runs/some-run/cancel"),
    ],
)
def test_unknown_workflow_is_404_workflow_not_found(
    client: httpx.Client, method: str, path: str
) -> None:
    response = client.request(method, path, data={"message": "m"})
    assert_error_body(response, 404, "WORKFLOW_NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "suffix"), [("GET", ""), ("POST", "/cancel")], ids=["get", "cancel"]
)
def test_unknown_run_is_404_run_not_found(client: httpx.Client, method: str, suffix: str) -> None:
    response = client.request(method, f"/workflows/demo-parallel/runs/no-such-run{suffix}")
    assert_error_body(response, 404, "RUN_NOT_FOUND")


def test_a_run_is_not_found_under_another_workflow_or_session(client: httpx.Client) -> None:
    started = start(client, "demo-sequential", session_id="session-1", user_id="ada")
    assert started.status_code == 200, started.text
    run_id = started.json()["run_id"]
    run = read_run(client, "demo-sequential", run_id)
    assert (run["session_id"], run["user_id"], run["input"]) == ("session-1", "ada", "agents")
    same_session = client.get(
        f"/workflows/demo-sequential/runs/{run_id}", params={"session_id": "session-1"}
    )
    assert same_session.status_code == 200
    other_session = client.get(
        f"/workflows/demo-sequential/runs/{run_id}", params={"session_id": "session-2"}
    )
    assert_error_body(other_session, 404, "RUN_NOT_FOUND")
    other_workflow = client.post(f"/workflows/demo-parallel/runs/{run_id}/cancel")
    assert_error_body(other_workflow, 404, "RUN_NOT_FOUND")


def test_get_on_cancel_is_405_naming_post(client: httpx.Client) -> None:
    response = client.get("/workflows/demo-parallel/runs/some-run/cancel")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    "data",
    [{}, {"background": "true"}, {"message": "m", "background": "not-a-boolean"}],
    ids=["empty", "no-message", "bad-boolean"],
)
def test_an_invalid_start_is_422_with_the_declared_body(
    client: httpx.Client, data: dict[str, str]
) -> None:
    response = client.post("/workflows/demo-parallel/runs", data=data)
    assert_error_body(response, 422, "VALIDATION_ERROR")


# -- running and cancelling -----------------------------------------------------------------


def test_a_completed_run_cannot_be_cancelled_400_run_not_active(client: httpx.Client) -> None:
    started = start(client, "demo-sequential")
    assert started.status_code == 200, started.text
    run = started.json()
    assert run["status"] == "COMPLETED"
    assert [step["status"] for step in run["steps"]] == ["COMPLETED"] * 3
    assert all(step["cleaned_up"] and step["progress"] == 100 for step in run["steps"])
    assert run["content"] and run["finished_at"]
    cancel = client.post(f"/workflows/demo-sequential/runs/{run['run_id']}/cancel")
    assert_error_body(cancel, 400, "RUN_NOT_ACTIVE")
    assert read_run(client, "demo-sequential", run["run_id"])["status"] == "COMPLETED"


@pytest.mark.slow
def test_background_parallel_run_cancel_stops_and_cleans_up_every_step(
    client: httpx.Client,
) -> None:
    started = start(client, "demo-parallel", background="true")
    assert started.status_code == 202, started.text
    accepted = started.json()
    assert set(accepted) == {"run_id", "session_id", "status"}
    assert accepted["status"] in ("PENDING", "RUNNING")
    run_id = accepted["run_id"]

    def working(run: dict[str, Any]) -> bool:
        steps = steps_by_name(run)
        return run["status"] == "RUNNING" and all(
            steps[name]["status"] == "RUNNING" and steps[name]["progress"] >= 10
            for name in RESEARCH
        )

    running = poll(lambda: read_run(client, "demo-parallel", run_id), working)
    assert steps_by_name(running)["summarise"]["status"] == "PENDING"

    cancel = client.post(f"/workflows/demo-parallel/runs/{run_id}/cancel")
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["status"] == "CANCELLED"

    cancelled = read_run(client, "demo-parallel", run_id)
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["finished_at"] is not None and cancelled["content"] is None
    steps = steps_by_name(cancelled)
    for name in RESEARCH:
        assert steps[name]["status"] == "CANCELLED", steps[name]
        assert steps[name]["cleaned_up"] is True, steps[name]
        assert steps[name]["finished_at"] is not None
        assert 10 <= steps[name]["progress"] < 100
    assert steps["summarise"]["status"] == "CANCELLED"
    assert steps["summarise"]["started_at"] is None  # no step starts after the cancel

    # Stopped means stopped: one and a half progress ticks later nothing has moved.
    time.sleep(1.5)
    later = read_run(client, "demo-parallel", run_id)
    assert later["status"] == "CANCELLED"
    assert later["steps"] == cancelled["steps"]


def test_cancel_is_idempotent(client: httpx.Client) -> None:
    run_id = start(client, "demo-parallel", background="true").json()["run_id"]
    first = client.post(f"/workflows/demo-parallel/runs/{run_id}/cancel")
    second = client.post(f"/workflows/demo-parallel/runs/{run_id}/cancel")
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["status"] == second.json()["status"] == "CANCELLED"
    assert first.json()["updated_at"] == second.json()["updated_at"]  # the second changed nothing
    assert read_run(client, "demo-parallel", run_id)["status"] == "CANCELLED"


def _resolve(expression: str, request_path: dict[str, str], body: dict[str, Any]) -> str:
    if expression.startswith("$request.path."):
        return request_path[expression.removeprefix("$request.path.")]
    assert expression.startswith("$response.body#/"), expression
    value = body[expression.removeprefix("$response.body#/")]
    assert isinstance(value, str)
    return value


def test_links_from_a_started_run_read_and_cancel_it(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    operations = {
        operation["operationId"]: (method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    accepted = document["paths"]["/workflows/{workflow_id}/runs"]["post"]["responses"]["202"]
    links = {name: document["components"]["links"][name] for name in accepted["links"]}
    assert {link["operationId"] for link in links.values()} == {
        "get_workflow_run",
        "cancel_workflow_run",
    }

    started = start(client, "demo-parallel", background="true")
    assert started.status_code == 202
    for name in ("GetWorkflowRun", "CancelWorkflowRun"):  # read it, then cancel it
        link = links[name]
        method, template = operations[link["operationId"]]
        path, query = template, {}
        for key, expression in link["parameters"].items():
            location, _, parameter = key.partition(".")
            value = _resolve(expression, {"workflow_id": "demo-parallel"}, started.json())
            if location == "path":
                path = path.replace("{" + parameter + "}", value)
            else:
                query[parameter] = value
        response = client.request(method, path, params=query)
        assert response.status_code == 200, (name, response.text)
        assert response.json()["run_id"] == started.json()["run_id"]
    assert read_run(client, "demo-parallel", started.json()["run_id"])["status"] == "CANCELLED"
