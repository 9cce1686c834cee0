"""Conformance: judge any server by URL against the contract, stricter than a plain `st run`.

`checks` holds one registered Schemathesis check per contract rule, `failures` the findings they
raise, `runner` drives Schemathesis plus our own probes, `report` renders the result and `plugin`
offers the same suite inside pytest. Nothing here imports `generated` or `reference`: the embedded
default is started as a `contract serve` process.
"""
