"""Contract-first generator: load → validate → IR → render."""

__version__ = "0.1.0"
