from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from generator.launch import contract_command

if TYPE_CHECKING:
    from tests.support.outcomes import ConformOutcomes
    from tests.support.postgres import PostgresServer

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CONTRACT = contract_command()


def run_contract(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a child process, as a user or CI script would."""
    return subprocess.run(
        [*CONTRACT, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def kitchen_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The kitchen-sink golden contract, generated afresh and served by uvicorn on loopback."""
    from generator.codegen.output import write_package
    from generator.codegen.pipeline import generate_package
    from tests.support.server import uvicorn_server

    root = tmp_path_factory.mktemp("kitchen")
    spec = REPO / "tests" / "golden" / "kitchen_sink" / "openapi.yaml"
    write_package(root / "kitchen_sink", generate_package(spec, "kitchen_sink"))
    with uvicorn_server("tests.apps.kitchen_impl:create", extra_paths=(root,)) as url:
        yield url


@pytest.fixture(scope="session")
def conform_outcomes(tmp_path_factory: pytest.TempPathFactory) -> ConformOutcomes:
    """`contract conform` against a broken server, run once per session for the same arguments
    and read by every test that asks for it (tests/support/outcomes.py)."""
    from tests.support.outcomes import ConformOutcomes, session_folder

    return ConformOutcomes(session_folder(tmp_path_factory.getbasetemp()))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL cluster (initdb + pg_ctl on 127.0.0.1), one per test worker."""
    from tests.support.postgres import postgres_server

    with postgres_server() as server:
        yield server
