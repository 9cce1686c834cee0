"""Duplicate operationIds: refused by default, renamed in document order only when asked to.

Agno's own published AgentOS document uses `get_config` twice, at `/config` and at
`/components/{component_id}/configs/{version}`: the real case the option exists for.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from generator.spec.loader import load_spec
from generator.spec.operation_ids import find_duplicates, rename_duplicates
from tests.conftest import SHARED, run_contract
from tests.support.conform import run_conform
from tests.support.mock_proxy import mock_server

AGNO = SHARED / "contracts" / "agno-agentos-3.1.10.json"
FLAG = "--rename-duplicate-operation-ids"
KEPT = "/paths/~1config/get"
RENAMED = "/paths/~1components~1{component_id}~1configs~1{version}/get"
ERROR = f"agno.json#{RENAMED}: operationId 'get_config' is used twice (also at {KEPT}"
HINT = (
    "--rename-duplicate-operation-ids or `rename_duplicate_operation_ids = true` in [tool.contract]"
)


def warning(spec: str = "agno.json") -> str:
    return (
        f"warning: {spec}#{RENAMED}: operationId 'get_config' is used twice; "
        f"renamed to 'get_config_2' (kept at {spec}#{KEPT})"
    )


pytestmark = pytest.mark.slow  # each generation of Agno's 131 operations takes seconds


@pytest.fixture
def agno(tmp_path: Path) -> Path:
    shutil.copyfile(AGNO, tmp_path / "agno.json")
    return tmp_path


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_generate_refuses_a_duplicate_with_its_places_and_the_option(agno: Path) -> None:
    result = run_contract("generate", "agno.json", "--out", "out", cwd=agno)
    assert result.returncode == 1, result.stderr
    assert ERROR in result.stderr
    assert HINT in result.stderr
    assert not (agno / "out").exists()


def test_check_refuses_it_as_generate_does(agno: Path) -> None:
    result = run_contract("check", "agno.json", "--out", "out", cwd=agno)
    assert result.returncode == 1, result.stderr
    assert ERROR in result.stderr
    assert HINT in result.stderr


def test_validate_stays_strict(agno: Path) -> None:
    result = run_contract("validate", "agno.json", FLAG, cwd=agno)
    assert result.returncode == 2  # validate has no such option: nothing to rename there
    result = run_contract("validate", "agno.json", cwd=agno)
    assert result.returncode == 1
    assert ERROR in result.stderr


def test_the_flag_renames_the_later_one_with_a_warning(agno: Path) -> None:
    result = run_contract("generate", "agno.json", "--out", "out", FLAG, cwd=agno)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(warning()) == 1, result.stderr
    api = (agno / "out" / "api.py").read_text(encoding="utf-8")
    assert "async def get_config(" in api
    assert "async def get_config_2(" in api
    # The served document carries the new id, so the served document and the routes agree.
    served = json.loads((agno / "out" / "openapi.json").read_text(encoding="utf-8"))
    assert served["paths"]["/config"]["get"]["operationId"] == "get_config"
    renamed = served["paths"]["/components/{component_id}/configs/{version}"]["get"]
    assert renamed["operationId"] == "get_config_2"
    manifest = json.loads((agno / "out" / ".contract-manifest.json").read_text(encoding="utf-8"))
    assert manifest["rename_duplicate_operation_ids"] == "true"

    checked = run_contract("check", "agno.json", "--out", "out", FLAG, cwd=agno)
    assert checked.returncode == 0, checked.stderr
    assert warning() in checked.stderr
    # The option is a generation input: without it the package is not what generate would write.
    assert run_contract("check", "agno.json", "--out", "out", cwd=agno).returncode == 1
    again = run_contract("generate", "agno.json", "--out", "out", FLAG, cwd=agno)
    assert "up to date" in again.stdout, again.stderr


def test_the_key_in_tool_contract_renames_too_and_the_flag_can_undo_it(agno: Path) -> None:
    (agno / "pyproject.toml").write_text(
        '[tool.contract]\nspec = "agno.json"\nout = "out"\npackage = "out"\n'
        "rename_duplicate_operation_ids = true\n",
        encoding="utf-8",
    )
    result = run_contract("generate", cwd=agno)
    assert result.returncode == 0, result.stderr
    assert warning(str(agno / "agno.json")) in result.stderr  # the configured path, absolute
    assert "async def get_config_2(" in (agno / "out" / "api.py").read_text(encoding="utf-8")
    assert run_contract("check", cwd=agno).returncode == 0
    refused = run_contract("check", "--no-rename-duplicate-operation-ids", cwd=agno)
    assert refused.returncode == 1
    assert ERROR.removeprefix("agno.json") in refused.stderr


def test_a_key_that_is_not_a_boolean_is_an_error(agno: Path) -> None:
    (agno / "pyproject.toml").write_text(
        '[tool.contract]\nrename_duplicate_operation_ids = "yes"\n', encoding="utf-8"
    )
    result = run_contract("generate", "agno.json", cwd=agno)
    assert result.returncode == 2
    assert "rename_duplicate_operation_ids must be true or false" in result.stderr


def test_two_runs_are_byte_identical(agno: Path) -> None:
    for out in ("one", "two"):
        result = run_contract(
            "generate", "agno.json", "--out", out, "--package", "pkg", FLAG, cwd=agno
        )
        assert result.returncode == 0, result.stderr
    assert _files(agno / "one") == _files(agno / "two")


def test_renaming_follows_document_order_and_skips_names_taken(tmp_path: Path) -> None:
    def operation(operation_id: str) -> dict[str, object]:
        return {"operationId": operation_id, "responses": {"204": {"description": "none"}}}

    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {"get": operation("read"), "post": operation("read")},
            "/b": {"get": operation("read_2"), "put": operation("read")},
        },
    }
    (tmp_path / "api.json").write_text(json.dumps(document), encoding="utf-8")
    spec = load_spec(tmp_path / "api.json")
    renamed, warnings = rename_duplicates(spec)
    paths = renamed.document["paths"]
    ids = [paths[p][m]["operationId"] for p, m in (("/a", "get"), ("/a", "post"), ("/b", "put"))]
    assert ids == ["read", "read_3", "read_4"]
    assert paths["/b"]["get"]["operationId"] == "read_2"
    assert [w.pointer for w in warnings] == ["/paths/~1a/post", "/paths/~1b/put"]
    assert all(w.level == "warning" and "kept at" in w.hint for w in warnings)
    assert spec.document["paths"]["/a"]["post"]["operationId"] == "read"  # the input is untouched
    assert find_duplicates(renamed.document) == ()


DUPLICATED = """\
openapi: 3.1.0
info: {title: Twice, version: '1'}
paths:
  /config:
    get:
      operationId: get_config
      responses:
        '200':
          description: the config
          content: {application/json: {schema: {type: object}}}
  /components/{id}/config:
    get:
      operationId: get_config
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: a component's config
          content: {application/json: {schema: {type: object}}}
"""


def test_conform_refuses_a_duplicate_and_checks_the_server_with_the_option(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "twice.yaml"
    spec.write_text(DUPLICATED, encoding="utf-8")
    with mock_server(spec, token=None) as url:
        refused = run_conform(spec, "--url", url)
        checked = run_conform(spec, "--url", url, FLAG, "--max-examples", "5", "--seed", "1")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "operationId 'get_config' is used twice" in refused.stderr and HINT in refused.stderr
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "renamed to 'get_config_2'" in checked.stderr  # the warning, on stderr
    assert "CONFORMANT: 0 findings" in checked.stdout
    assert f"{FLAG}" in checked.stdout.split("reproduce:")[1]  # the repeat line renames too
