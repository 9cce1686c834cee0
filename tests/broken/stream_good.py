"""Conforms to `stream_contract.yaml`: typed SSE events, JSON Lines, a cancel that ends the
stream with `WorkflowCancelled`. The suite must report zero findings."""

from starlette.applications import Starlette

from .base import factory
from .stream_base import StreamServer


def create() -> Starlette:
    return factory(StreamServer)
