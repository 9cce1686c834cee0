"""Not broken: a deployment without runs. Starting and cancelling runs answer 503 Service
Unavailable (the feature is not configured here), as Agno's offline AgentOS answers its queue and
knowledge operations. What the server declines to serve is reported as unavailable, never as a
finding; the list still conforms."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from .base import Server, error, factory

DETAIL = "Runs are not enabled on this deployment"


class WithoutRuns(Server):
    async def start_run(self, request: Request) -> Response:
        return error(503, DETAIL, "SERVICE_UNAVAILABLE")

    async def cancel(self, request: Request) -> Response:
        return error(503, DETAIL, "SERVICE_UNAVAILABLE")


def create() -> Starlette:
    return factory(WithoutRuns)
