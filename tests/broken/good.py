"""Conforms to `contract.yaml`: the suite must report zero findings."""

from starlette.applications import Starlette

from .base import Server, factory


def create() -> Starlette:
    return factory(Server)
