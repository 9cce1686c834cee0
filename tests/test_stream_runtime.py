"""The generated streaming path over real HTTP (issue 12, item 3): the streaming golden spec,
generated afresh, implemented by tests/apps/stream_impl.py and served by uvicorn."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.reference_server import poll
from tests.support.server import REPO, uvicorn_server

SPEC = REPO / "tests" / "golden" / "streaming" / "openapi.yaml"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from generator.codegen.output import write_package
    from generator.codegen.pipeline import generate_package

    root = tmp_path_factory.mktemp("streaming")
    write_package(root / "streaming", generate_package(SPEC, "streaming"))
    log = root / "server.log"
    with uvicorn_server("tests.apps.stream_impl:create", extra_paths=(root,), log_path=log) as url:
        yield url, log


def raw(url: str, path: str) -> httpx.Response:
    return httpx.get(url + path, timeout=10)


def test_typed_events_are_framed_with_event_data_id_and_retry(served: tuple[str, Path]) -> None:
    url, _ = served
    reply = raw(url, "/ticks?mode=ok")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert reply.headers["cache-control"] == "no-cache"
    assert (
        reply.text
        == "".join(
            f'event: Tick\ndata: {{"n":{n},"text":"tick {n}"}}\nid: {n}\n\n' for n in range(3)
        )
        + 'event: Done\ndata: {"total":3}\nretry: 1500\n\n'
    )


def test_multi_line_text_data_becomes_one_data_line_each(served: tuple[str, Path]) -> None:
    url, _ = served
    reply = raw(url, "/notes")
    assert reply.text == (
        "event: note\ndata: first line\ndata: second line\ndata: third\n\ndata: \n\n"
    )


def test_json_lines_are_one_json_value_per_line(served: tuple[str, Path]) -> None:
    url, _ = served
    reply = raw(url, "/lines")
    assert reply.headers["content-type"].startswith("application/jsonl")
    lines = reply.text.split("\n")
    assert lines[-1] == "" and len(lines) == 4
    assert [json.loads(line) for line in lines[:-1]] == [
        {"n": n, "text": f"line {n}\n"} for n in range(3)
    ]


def test_an_invalid_item_ends_the_stream_unsent_and_is_logged(served: tuple[str, Path]) -> None:
    url, log = served
    reply = raw(url, "/ticks?mode=invalid")
    assert reply.status_code == 200
    assert reply.text.count("event: Tick") == 2
    assert '"n":-1' not in reply.text and "Done" not in reply.text
    poll(log.read_text, lambda text: "StreamTicks200Stream: invalid item, stream ended" in text)


def test_idle_streams_send_keep_alive_comments(served: tuple[str, Path]) -> None:
    url, _ = served
    reply = raw(url, "/ticks?mode=idle")
    head, _, rest = reply.text.partition("event: Tick")
    assert head.count(": keep-alive\n\n") >= 2 and head.replace(": keep-alive\n\n", "") == ""
    assert rest  # the events followed


def test_a_client_that_goes_away_closes_the_implementation_iterator(
    served: tuple[str, Path],
) -> None:
    url, _ = served
    before = raw(url, "/closed").json()["closed"]
    with httpx.Client(timeout=10) as client:
        with client.stream("GET", url + "/ticks?mode=endless") as reply:
            lines = reply.iter_lines()
            assert next(lines) == "event: Tick"
    # the endless generator's finally block ran once the connection was gone
    poll(lambda: raw(url, "/closed").json()["closed"], lambda closed: closed == before + 1)
