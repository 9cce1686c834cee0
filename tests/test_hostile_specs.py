"""A spec is untrusted input: each hazard of issue 7 is a test that fails without its protection."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from generator.codegen.pipeline import generate_package
from generator.spec import bundle
from generator.spec.errors import ContractError, UnreadableSpec
from generator.spec.loader import load_spec
from tests.conftest import run_contract

ITEM = {"type": "object", "properties": {"id": {"type": "integer"}}}


def _spec(tmp_path: Path, schema_ref: str, name: str = "api.yaml") -> Path:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/items": {
                "get": {
                    "operationId": "list_items",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": schema_ref}}},
                        }
                    },
                }
            }
        },
    }
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[float, bytes]] = {}
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.hits.append(self.path)
        delay, body = self.routes.get(self.path, (0.0, b""))
        time.sleep(delay)
        self.send_response(200 if self.path in self.routes else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def ref_server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {"routes": {}, "hits": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


# -- $ref hazards -----------------------------------------------------------------------------


def test_file_ref_inside_the_folder_is_inlined(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "item.yaml").write_text(yaml.safe_dump({"Item": ITEM}))
    spec = load_spec(_spec(tmp_path, "schemas/item.yaml#/Item"))
    content = spec.document["paths"]["/items"]["get"]["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == ITEM
    assert "class ListItems200" in generate_package(tmp_path / "api.yaml", "pkg")["responses.py"]


@pytest.mark.parametrize(
    "target", ["../outside.yaml#/Item", "/etc/passwd#/x", "sub/../../outside.yaml"]
)
def test_file_ref_leaving_the_folder_is_refused(tmp_path: Path, target: str) -> None:
    folder = tmp_path / "spec"
    folder.mkdir()
    (tmp_path / "outside.yaml").write_text(yaml.safe_dump({"Item": ITEM}))
    with pytest.raises(ContractError) as refused:
        load_spec(_spec(folder, target))
    assert "leaves the spec's folder; refused" in refused.value.lines()[0]


def test_symlink_leaving_the_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "spec"
    folder.mkdir()
    (tmp_path / "secret.yaml").write_text(yaml.safe_dump({"Item": ITEM}))
    (folder / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    with pytest.raises(ContractError, match="leaves the spec's folder"):
        load_spec(_spec(folder, "link.yaml#/Item"))


def test_remote_ref_is_never_fetched_unless_asked(
    tmp_path: Path, ref_server: tuple[str, type[_Handler]]
) -> None:
    url, handler = ref_server
    handler.routes["/item.json"] = (0.0, json.dumps({"Item": ITEM}).encode())
    spec = _spec(tmp_path, f"{url}/item.json#/Item")
    result = run_contract("validate", spec)
    assert result.returncode == 1
    assert "remote $ref" in result.stderr and "--allow-remote-refs" in result.stderr
    assert handler.hits == []
    allowed = run_contract("validate", spec, "--allow-remote-refs")
    assert allowed.returncode == 0, allowed.stderr
    assert handler.hits == ["/item.json"]


def test_remote_ref_size_and_time_are_limited(
    tmp_path: Path, ref_server: tuple[str, type[_Handler]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = ref_server
    handler.routes["/huge.json"] = (0.0, b'{"Item": "' + b"x" * 5000 + b'"}')
    handler.routes["/slow.json"] = (2.0, json.dumps({"Item": ITEM}).encode())
    with pytest.raises(ContractError, match="larger than the size limit"):
        load_spec(_spec(tmp_path, f"{url}/huge.json#/Item"), allow_remote_refs=True, max_bytes=4000)
    monkeypatch.setattr(bundle, "REMOTE_TIMEOUT_SECONDS", 0.5)
    started = time.monotonic()
    with pytest.raises(ContractError, match="slow.json"):
        load_spec(_spec(tmp_path, f"{url}/slow.json#/Item"), allow_remote_refs=True)
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("scheme_ref", ["file:///etc/passwd#/x", "ftp://127.0.0.1/x.yaml#/x"])
def test_only_http_refs_can_ever_be_fetched(tmp_path: Path, scheme_ref: str) -> None:
    with pytest.raises(ContractError, match="only http and https"):
        load_spec(_spec(tmp_path, scheme_ref), allow_remote_refs=True)


def test_dangling_ref_names_its_json_pointer(tmp_path: Path) -> None:
    with pytest.raises(ContractError) as refused:
        load_spec(_spec(tmp_path, "#/components/schemas/Nope"))
    line = refused.value.lines()[0]
    assert "#/paths/~1items/get/responses/200/content/application~1json/schema" in line
    assert "points at nothing" in line


def test_circular_refs_across_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"A": {"items": {"$ref": "b.yaml#/B"}}}))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"B": {"items": {"$ref": "a.yaml#/A"}}}))
    with pytest.raises(ContractError, match="comes back to itself"):
        load_spec(_spec(tmp_path, "a.yaml#/A"))


def test_circular_local_refs_generate_forward_references(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "#/components/schemas/Node")
    doc = yaml.safe_load(spec.read_text())
    doc["components"] = {
        "schemas": {
            "Node": {
                "type": "object",
                "properties": {
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}
                },
            }
        }
    }
    spec.write_text(yaml.safe_dump(doc))
    models = generate_package(spec, "pkg")["models.py"]
    assert "children: list[Node] | None = None" in models
    namespace: dict[str, object] = {}
    exec(compile(models, "models.py", "exec"), namespace)  # noqa: S102 - our own output
    node = namespace["Node"].model_validate({"children": [{"children": []}]})  # type: ignore[attr-defined]
    assert node.children[0].children == []


# -- documents that are not what they claim ---------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_deeply_nested_documents_are_refused(tmp_path: Path, suffix: str) -> None:
    depth = 100_000
    text = "[" * depth + "]" * depth if suffix == ".json" else "a: " + "[" * depth + "]" * depth
    path = tmp_path / f"deep{suffix}"
    path.write_text(text)
    result = run_contract("validate", path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_size_limit_has_a_clear_message(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "#/components/schemas/X")
    with pytest.raises(UnreadableSpec, match="larger than the 100 bytes limit"):
        load_spec(spec, max_bytes=100)


def test_duplicate_operation_ids_name_both_places(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "#/components/schemas/X")
    doc = yaml.safe_load(spec.read_text())
    doc["components"] = {"schemas": {"X": ITEM}}
    doc["paths"]["/other"] = {"post": dict(doc["paths"]["/items"]["get"])}
    spec.write_text(yaml.safe_dump(doc))
    result = run_contract("generate", spec, "--out", tmp_path / "out")
    assert result.returncode == 1
    assert "operationId 'list_items' is used twice" in result.stderr
    assert "#/paths/~1other/post" in result.stderr and "also at /paths/~1items/get" in result.stderr
    assert not (tmp_path / "out").exists()


def test_unexpected_errors_are_one_line_unless_debug(tmp_path: Path) -> None:
    result = run_contract("generate", tmp_path / "missing.yaml")
    assert result.returncode == 2 and "Traceback" not in result.stderr
