"""The spec layer reads streams: 3.2 documents, `itemSchema` in 3.1 and 3.2, ends-stream links."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from generator.spec.errors import InvalidSpec, UnreadableSpec
from generator.spec.loader import load_spec
from generator.spec.streams import iter_streams, sse_events
from generator.spec.validate import validate

REPO = Path(__file__).resolve().parents[1]

EVENT = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"const": "Tick"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": "#/components/schemas/Tick"},
        },
    },
}


def document(version: str) -> dict[str, Any]:
    return {
        "openapi": version,
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/ticks": {
                "get": {
                    "operationId": "ticks",
                    "responses": {
                        "200": {
                            "description": "ticks",
                            "content": {
                                "text/event-stream": {"itemSchema": {"oneOf": [EVENT]}},
                                "application/jsonl": {
                                    "itemSchema": {"$ref": "#/components/schemas/Tick"}
                                },
                                "application/json": {"schema": {"type": "object"}},
                            },
                            "links": {
                                "Stop": {
                                    "operationId": "stop",
                                    "parameters": {"id": "$response.body#/id"},
                                    "x-contract-ends-stream": True,
                                    "x-contract-terminal-event": "Stopped",
                                },
                                "Other": {"operationId": "stop"},
                            },
                        }
                    },
                }
            },
            "/stop": {"post": {"operationId": "stop", "responses": {"204": {"description": "ok"}}}},
        },
        "components": {
            "schemas": {
                "Tick": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {"id": {"type": "string"}},
                }
            }
        },
    }


def write(tmp_path: Path, doc: dict[str, Any], name: str = "spec.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("version", ["3.1.0", "3.2.0"])
def test_item_schemas_and_ends_stream_links_are_listed(tmp_path: Path, version: str) -> None:
    spec = load_spec(write(tmp_path, document(version)))
    assert validate(spec) == ()
    streams = list(iter_streams(spec.document))
    assert [(s.operation_id, s.status, s.media_type) for s in streams] == [
        ("ticks", "200", "text/event-stream"),
        ("ticks", "200", "application/jsonl"),
    ]
    sse, jsonl = streams
    assert sse.is_sse and not jsonl.is_sse
    assert jsonl.item_schema == {"$ref": "#/components/schemas/Tick"}
    assert sse.pointer == "/paths/~1ticks/get/responses/200/content/text~1event-stream"
    (link,) = sse.ends_stream
    assert (link.name, link.operation_id, link.terminal_event) == ("Stop", "stop", "Stopped")
    assert link.parameters == {"id": "$response.body#/id"}
    assert sse_events(spec.document, sse.item_schema) == {
        "Tick": {"$ref": "#/components/schemas/Tick"}
    }


def test_an_untyped_sse_item_schema_allows_any_event() -> None:
    untyped = {"type": "object", "properties": {"data": {"type": "string"}}}
    assert sse_events({}, untyped) is None
    text_data = {"properties": {"event": {"enum": ["a", "b"]}, "data": {"type": "string"}}}
    assert sse_events({}, text_data) == {"a": None, "b": None}


def test_a_broken_item_schema_in_a_31_document_is_an_error(tmp_path: Path) -> None:
    doc = document("3.1.0")
    media = doc["paths"]["/ticks"]["get"]["responses"]["200"]["content"]["application/jsonl"]
    media["itemSchema"] = {"type": "no-such-type"}
    with pytest.raises(InvalidSpec):
        validate(load_spec(write(tmp_path, doc)))


def test_the_31_document_itself_is_not_changed_by_validation(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, document("3.1.0")))
    before = copy.deepcopy(spec.document)
    validate(spec)
    assert spec.document == before


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda d: d["paths"]["/ticks"].update(query={"responses": {}}), "QUERY method"),
        (lambda d: d["paths"]["/ticks"].update(additionalOperations={}), "additionalOperations"),
        (lambda d: d.update({"$self": "https://example.com/api"}), "$self"),
        (lambda d: d["components"].update(mediaTypes={}), "components/mediaTypes"),
        (
            lambda d: d["paths"]["/stop"]["post"].update(
                parameters=[{"name": "q", "in": "querystring", "content": {}}]
            ),
            "in: querystring",
        ),
    ],
)
def test_an_unsupported_32_construct_is_refused_in_one_line(
    tmp_path: Path, edit: Any, named: str
) -> None:
    doc = document("3.2.0")
    edit(doc)
    with pytest.raises(UnreadableSpec) as caught:
        load_spec(write(tmp_path, doc))
    assert named in caught.value.message
    assert "\n" not in caught.value.message


def test_a_32_document_validates_and_generates(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = write(tmp_path, document("3.2.0"))
    contract = [sys.executable, "-m", "generator.cli"]
    done = subprocess.run([*contract, "validate", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid OpenAPI 3.2.0" in done.stdout
    out = tmp_path / "pkg"
    done = subprocess.run(
        [*contract, "generate", str(path), "--out", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (out / "responses.py").exists()


def test_version_4_is_still_refused(tmp_path: Path) -> None:
    doc = document("3.2.0")
    doc["openapi"] = "3.3.0"
    with pytest.raises(UnreadableSpec, match="3.0, 3.1 and 3.2 are"):
        load_spec(write(tmp_path, doc))
