"""Conformance: judge any server by URL against the contract, stricter than a plain `st run`.

`options` validates a run's input once; `preflight` checks that a server answers at all; `runner`
orchestrates the run (Schemathesis' engine, then our probes) and `collector` turns what happened
into coverage and findings. `checks` holds one registered Schemathesis check per contract rule,
`failures` the findings they raise, `probes` our own auth and method requests; `results` is the
outcome as plain data, `report` renders it and `plugin` offers the same suite inside pytest.
`schemathesis_api` is the only module that imports Schemathesis. Nothing here imports `generated`
or `reference`: for the embedded default the CLI serves the reference and passes its URL.
"""
