"""Agno's own client reads a streaming run: `AgentOSClient.run_workflow_stream` against a server.

Run it in the agno virtual environment (examples/agno/conform_agno.py `ensure_venv` builds it):

    examples/agno/.venv/bin/python examples/agno/stream_client.py URL TOKEN WORKFLOW_ID

Prints one JSON line per event Agno parsed: its class, its `event`, `run_id` and `step_name`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

os.environ.setdefault("AGNO_TELEMETRY", "false")

from agno.client.os import AgentOSClient  # noqa: E402 - after the telemetry switch


async def main(url: str, token: str, workflow_id: str) -> None:
    client = AgentOSClient(base_url=url, timeout=60.0)
    headers = {"Authorization": f"Bearer {token}"}
    stream = client.run_workflow_stream(workflow_id, "hello from agno", headers=headers)
    async for event in stream:
        line = {
            "class": type(event).__name__,
            "event": getattr(event, "event", None),
            "run_id": getattr(event, "run_id", None),
            "step_name": getattr(event, "step_name", None),
        }
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
