"""Safe regeneration: the spec changes, the package is regenerated, and people's code survives.

A workspace in tmp mirrors the repository: `spec/agentos.yaml` (a copy), `generated/agentos`
(written by `contract generate`), `reference/` (a copy of the real one, when it exists) and
`myapp/`, a small hand-written implementation of the interface as it was. Then the spec gains
two operations and a parameter changes type, the package is regenerated in place, and:

- the hand-written code (myapp/, the reference copy, the real reference/) is byte-identical;
- `contract diff` classifies the parameter change as breaking before anything is regenerated;
- mypy names the method whose signature no longer matches, and the operations not implemented;
- creating or serving the app with the old implementation fails at once, naming the missing
  operations (the abstract base class refuses to instantiate it; no 501 at request time).
"""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

# The module's fixture generates twice, runs mypy twice and starts Python four times.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SPEC = ROOT / "spec" / "agentos.yaml"
SEED_OPERATION = "cancel_workflow_run"  # DESIGN.md: the spec holds the seed operation verbatim
NEW_OPERATIONS = ("list_regeneration_probes", "delete_regeneration_probe")
IMPLEMENTATION = "MyAgentOS"


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder` (caches excluded); {} when it does not exist."""
    if not folder.is_dir():
        return {}
    result = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not {"__pycache__", ".mypy_cache"} & set(relative.parts):
            result[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


def run(argv: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def generate(spec: Path, out: Path) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "contract"), "generate", str(spec), "--out", str(out)]
    return run([*command, "--package", "generated.agentos"], ROOT)


def mypy(workspace: Path) -> list[str]:
    """mypy's error lines for myapp/ and reference/ against the workspace's generated package."""
    targets = [name for name in ("myapp", "reference") if (workspace / name).is_dir()]
    command = [sys.executable, "-m", "mypy", "--ignore-missing-imports", "--no-error-summary"]
    command += ["--cache-dir", str(workspace.parent / "mypy-cache"), "--no-color-output"]
    completed = run([*command, *targets], workspace)
    return [line for line in completed.stdout.splitlines() if ": error:" in line]


def implementation_source(api_py: Path) -> str:
    """A hand-written implementation of every method the interface declares (bodies raise)."""
    tree = ast.parse(api_py.read_text(encoding="utf-8"))
    lines = ['"""Written by a person against the interface as it was."""', ""]
    lines.append("from __future__ import annotations")
    lines.append("")
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            names = ", ".join(alias.name for alias in node.names)
            lines.append(f"from generated.agentos.{node.module} import {names}")
    interface = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    lines.append(f"from generated.agentos.api import {interface.name}")
    lines += ["", "", f"class {IMPLEMENTATION}({interface.name}):"]
    for method in interface.body:
        if isinstance(method, ast.AsyncFunctionDef):
            method.decorator_list = []
            method.body = [ast.Raise(exc=ast.Name(id="NotImplementedError", ctx=ast.Load()))]
            lines += ["", *("    " + line for line in ast.unparse(method).splitlines())]
    return "\n".join(lines) + "\n"


APP_SOURCE = f'''"""Written by a person: the app built on the implementation."""

from __future__ import annotations

from fastapi import FastAPI

from generated.agentos import create_app
from myapp.impl import {IMPLEMENTATION}


def create() -> FastAPI:
    return create_app({IMPLEMENTATION}(), token="regeneration-test-token")
'''


def evolve(document: dict[str, Any]) -> str:
    """Add two operations and turn the seed operation's first string path parameter into an
    integer; the name of that parameter."""
    seed = next(
        operation
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and operation.get("operationId") == SEED_OPERATION
    )
    parameter = next(
        p for p in seed["parameters"] if p["in"] == "path" and p["schema"].get("type") == "string"
    )
    parameter["schema"]["type"] = "integer"
    ok = {
        "description": "ok",
        "content": {"application/json": {"schema": {"type": "object", "properties": {}}}},
    }
    probe_id = {"name": "probe_id", "in": "path", "required": True, "schema": {"type": "string"}}
    document["paths"]["/regeneration-probes"] = {
        "get": {"operationId": NEW_OPERATIONS[0], "responses": {"200": ok}}
    }
    document["paths"]["/regeneration-probes/{probe_id}"] = {
        "delete": {
            "operationId": NEW_OPERATIONS[1],
            "parameters": [probe_id],
            "responses": {"200": ok},
        }
    }
    return str(parameter["name"])


@dataclass
class Regeneration:
    workspace: Path
    changed_parameter: str
    diff: subprocess.CompletedProcess[str]
    generated: tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]
    hand_written_before: dict[str, dict[str, str]]
    hand_written_after: dict[str, dict[str, str]]
    package_before: dict[str, str]
    package_after: dict[str, str]
    mypy_before: list[str]
    mypy_after: list[str]
    start_before: subprocess.CompletedProcess[str]
    start_after: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def regeneration(tmp_path_factory: pytest.TempPathFactory) -> Regeneration:
    workspace = tmp_path_factory.mktemp("regeneration") / "workspace"
    (workspace / "spec").mkdir(parents=True)
    spec = workspace / "spec" / "agentos.yaml"
    shutil.copyfile(SPEC, spec)
    shutil.copyfile(SPEC, workspace.parent / "agentos-before.yaml")
    package = workspace / "generated" / "agentos"
    first = generate(spec, package)
    assert first.returncode == 0, first.stderr
    if (ROOT / "reference").is_dir():
        shutil.copytree(
            ROOT / "reference",
            workspace / "reference",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    (workspace / "myapp").mkdir()
    (workspace / "myapp" / "__init__.py").write_text('"""Hand-written."""\n')
    (workspace / "myapp" / "impl.py").write_text(implementation_source(package / "api.py"))
    (workspace / "myapp" / "app.py").write_text(APP_SOURCE)

    start = [sys.executable, "-c", "import myapp.app; myapp.app.create(); print('started')"]
    start_before = run(start, workspace)
    mypy_before = mypy(workspace)
    package_before = snapshot(package)

    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    changed = evolve(document)
    spec.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    diff = run(
        [str(BIN / "contract"), "diff", str(workspace.parent / "agentos-before.yaml"), str(spec)],
        ROOT,
    )

    roots = {"myapp": workspace / "myapp", "reference copy": workspace / "reference"}
    roots["reference"] = ROOT / "reference"
    before = {name: snapshot(folder) for name, folder in roots.items()}
    second = generate(spec, package)
    after = {name: snapshot(folder) for name, folder in roots.items()}

    return Regeneration(
        workspace=workspace,
        changed_parameter=changed,
        diff=diff,
        generated=(first, second),
        hand_written_before=before,
        hand_written_after=after,
        package_before=package_before,
        package_after=snapshot(package),
        mypy_before=mypy_before,
        mypy_after=mypy(workspace),
        start_before=start_before,
        start_after=run(start, workspace),
    )


def test_regeneration_rewrites_the_package(regeneration: Regeneration) -> None:
    second = regeneration.generated[1]
    assert second.returncode == 0, second.stderr
    changed = {
        name
        for name in regeneration.package_after
        if regeneration.package_before.get(name) != regeneration.package_after[name]
    }
    assert {"api.py", "app.py", "responses.py", "openapi.json"} <= changed
    api = (regeneration.workspace / "generated" / "agentos" / "api.py").read_text()
    assert all(f"async def {name}(" in api for name in NEW_OPERATIONS)


def test_hand_written_code_is_untouched(regeneration: Regeneration) -> None:
    assert regeneration.hand_written_before["myapp"], "the implementation was not written"
    assert set(regeneration.hand_written_before["myapp"]) == {"__init__.py", "impl.py", "app.py"}
    assert regeneration.hand_written_after == regeneration.hand_written_before
    if (ROOT / "reference").is_dir():
        assert regeneration.hand_written_before["reference copy"]


def test_diff_calls_the_parameter_change_breaking_before_regeneration(
    regeneration: Regeneration,
) -> None:
    diff = regeneration.diff
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert "[request-parameter-type-changed]" in diff.stdout
    assert (
        f'path parameter "{regeneration.changed_parameter}": type string → integer' in diff.stdout
    )
    assert diff.stdout.count("[api-path-added]") == 2


def test_the_old_implementation_type_checks_and_starts_against_the_old_package(
    regeneration: Regeneration,
) -> None:
    assert [line for line in regeneration.mypy_before if line.startswith("myapp")] == []
    assert regeneration.start_before.returncode == 0, regeneration.start_before.stderr
    assert regeneration.start_before.stdout.strip() == "started"


def test_mypy_names_the_method_whose_signature_changed(regeneration: Regeneration) -> None:
    errors = [line for line in regeneration.mypy_after if line.startswith("myapp")]
    override = [line for line in errors if line.startswith(os.path.join("myapp", "impl.py"))]
    assert any(
        f'of "{SEED_OPERATION}" is incompatible with supertype' in line and 'AgentosApi"' in line
        for line in override
    ), errors


def test_mypy_names_the_operations_not_implemented(regeneration: Regeneration) -> None:
    errors = [line for line in regeneration.mypy_after if line.startswith("myapp")]
    abstract = [
        line for line in errors if f'Cannot instantiate abstract class "{IMPLEMENTATION}"' in line
    ]
    assert len(abstract) == 1, errors
    assert all(f'"{name}"' in abstract[0] for name in NEW_OPERATIONS)


def test_mypy_names_the_reference_methods_that_no_longer_match(regeneration: Regeneration) -> None:
    reference = regeneration.workspace / "reference"
    sources = "".join(p.read_text() for p in reference.rglob("*.py")) if reference.is_dir() else ""
    if f"def {SEED_OPERATION}(" not in sources:
        pytest.skip(f"reference/ does not implement {SEED_OPERATION}")
    new = sorted(set(regeneration.mypy_after) - set(regeneration.mypy_before))
    ours = [line for line in new if line.startswith("reference")]
    assert any(
        f'of "{SEED_OPERATION}" is incompatible with supertype' in line and 'AgentosApi"' in line
        for line in ours
    ), new


def test_creating_the_app_fails_at_once_naming_the_missing_operations(
    regeneration: Regeneration,
) -> None:
    start = regeneration.start_after
    assert start.returncode != 0
    assert "started" not in start.stdout
    last = start.stderr.strip().splitlines()[-1]
    assert last.startswith(f"TypeError: Can't instantiate abstract class {IMPLEMENTATION}")
    assert all(name in last for name in NEW_OPERATIONS)


def test_serving_the_app_fails_before_it_listens(regeneration: Regeneration) -> None:
    command = [sys.executable, "-m", "uvicorn", "myapp.app:create", "--factory"]
    served = run([*command, "--host", "127.0.0.1", "--port", "0"], regeneration.workspace, 60)
    assert served.returncode != 0
    assert "Uvicorn running" not in served.stderr
    assert all(name in served.stderr for name in NEW_OPERATIONS)


def test_the_reference_implementation_is_incomplete_by_its_abstract_methods(
    regeneration: Regeneration,
) -> None:
    """Every subclass of the interface in the reference copy now lacks the new operations."""
    if not (regeneration.workspace / "reference").is_dir():
        pytest.skip("no reference/ in this checkout")
    probe = (
        "import importlib, inspect, pkgutil, reference\n"
        "from generated.agentos import AgentosApi\n"
        "for info in pkgutil.iter_modules(reference.__path__, 'reference.'):\n"
        "    module = importlib.import_module(info.name)\n"
        "    for name, cls in vars(module).items():\n"
        "        if inspect.isclass(cls) and issubclass(cls, AgentosApi) and "
        "cls.__module__ == module.__name__:\n"
        "            try:\n"
        "                object.__new__(cls)\n"
        "            except TypeError as exc:\n"
        "                print(name, exc)\n"
    )
    result = run([sys.executable, "-c", probe], regeneration.workspace)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines, "no implementation of AgentosApi found in reference/"
    assert all(all(name in line for name in NEW_OPERATIONS) for line in lines), lines


def test_generate_refuses_to_overwrite_hand_written_code_in_the_package(tmp_path: Path) -> None:
    out = tmp_path / "generated" / "agentos"
    assert generate(SPEC, out).returncode == 0
    mine = out / "custom.py"
    mine.write_text("def mine() -> int:\n    return 42\n")
    before = snapshot(out)
    refused = generate(SPEC, out)
    assert refused.returncode != 0
    assert "custom.py" in refused.stderr
    assert snapshot(out) == before
