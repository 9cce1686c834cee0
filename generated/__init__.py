"""Packages written by `contract generate`; do not edit."""
