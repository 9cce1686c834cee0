"""Deliberately broken servers, one per violation class, and one that conforms (`good`).

Each module exposes `create()`, a uvicorn factory, and is judged against `contract.yaml` here.
"""
