"""The two peers of benchmarks/stream.py, each an app factory for `uvicorn --factory`.

`generated`: the generated package of benchmarks/stream_case/openapi.yaml (importable as
`stream_bench`), implemented by yielding typed SSE items; the runtime validates, frames and sends
each one. `handwritten`: a FastAPI route written the usual way, a StreamingResponse of the same
pydantic models dumped to JSON and framed with FastAPI's own SSE encoder. Both build the same
Tick per event; what differs is only the layer the generator writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Query
from fastapi.sse import format_sse_event
from starlette.responses import StreamingResponse

RUN_ID = "5e922374-16f4-4b50-ac9b-395c89223da0"


def generated() -> FastAPI:
    from stream_bench import StreamBenchApi, create_app
    from stream_bench import responses as r
    from stream_bench.models import Tick

    class Ticks(StreamBenchApi):  # type: ignore[misc]
        async def stream_ticks(self, *, count: int) -> Any:
            async def items() -> AsyncIterator[Any]:
                for n in range(count):
                    yield r.StreamTicks200Tick(
                        data=Tick(event="Tick", n=n, run_id=RUN_ID, text=f"tick {n}")
                    )

            return r.StreamTicks200Stream(items=items())

    app: FastAPI = create_app(Ticks())
    return app


def handwritten() -> FastAPI:
    from stream_bench.models import Tick

    app = FastAPI()

    @app.get("/ticks")
    async def stream_ticks(count: int = Query(ge=1)) -> StreamingResponse:
        async def frames() -> AsyncIterator[bytes]:
            for n in range(count):
                tick = Tick(event="Tick", n=n, run_id=RUN_ID, text=f"tick {n}")
                data = tick.model_dump_json(by_alias=True, exclude_unset=True)
                yield format_sse_event(data_str=data, event="Tick")

        headers = {"cache-control": "no-cache"}
        return StreamingResponse(frames(), media_type="text/event-stream", headers=headers)

    return app
