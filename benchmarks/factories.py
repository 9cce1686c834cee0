"""Zero-argument app factories for `uvicorn --factory`: the two peers of benchmarks/serve.py.

Configured by $BENCH_DB (the SQLite file) and $CONTRACT_TOKEN (the bearer token), which
benchmarks/serve.py sets for each server it starts.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from benchmarks import handwritten_app
from generator.spec.config import TOKEN_VARIABLE
from reference.app import create

DB_VARIABLE = "BENCH_DB"


def generated() -> FastAPI:
    """The generated app with the reference implementation, as `contract serve` runs it."""
    return create(os.environ[DB_VARIABLE], os.environ[TOKEN_VARIABLE])


def handwritten() -> FastAPI:
    """The same reference executor behind hand-written FastAPI routes."""
    return handwritten_app.create(os.environ[DB_VARIABLE], os.environ[TOKEN_VARIABLE])
