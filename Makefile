# `make run` and `make test` are all the set-up there is: they bootstrap .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PIP := $(BIN)/pip --disable-pip-version-check -q

.PHONY: install run test lint typecheck generate check diff golden clean browser postgres
.PHONY: conform-agno
.PHONY: bench-generate bench-corpus bench-oasdiff

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import generator, fastapi, schemathesis, datamodel_code_generator"
	touch $(STAMP)

install: $(STAMP)

# The PostgreSQL server binaries the tests run their own cluster with (tests/support/postgres.py):
# Debian's postgresql-15 keeps initdb and pg_ctl in /usr/lib/postgresql/15/bin. Installed only
# where no initdb is found there or on PATH (with sudo when not root).
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; \
	then :; else \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends \
			postgresql-15 || exit 1; \
	fi

# Serve the reference and check it: the embedded default of `contract conform` (free loopback
# port, fresh token, temporary database); the summary and coverage matrix go to the terminal.
run: $(STAMP)
	$(BIN)/contract validate
	$(BIN)/contract check
	$(BIN)/contract conform --report reports/

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy generator generated reference
	$(BIN)/mypy conformance

generate: $(STAMP)
	$(BIN)/contract generate

golden: $(STAMP)
	for case in tests/golden/*/; do \
		$(BIN)/contract generate $$case/openapi.yaml --out $$case/expected \
			--package $$(basename $$case) --force || exit 1; \
	done

check: $(STAMP)
	$(BIN)/contract validate
	$(BIN)/contract check

# The committed spec against the working copy: identical on a fresh clone, so this fails only when
# a side cannot be read (exit 2); breaking changes in a working copy are printed, not fatal
# (docs/ci.md). Skipped without a committed spec to compare with.
diff: $(STAMP)
	@if git rev-parse -q --verify HEAD:spec/agentos.yaml >/dev/null 2>&1; then \
		$(BIN)/contract diff git:HEAD:spec/agentos.yaml spec/agentos.yaml; \
		code=$$?; if [ $$code -gt 1 ]; then exit $$code; fi; \
	else echo "diff: no committed spec/agentos.yaml to compare with; skipped"; fi

# In parallel (pytest-xdist), one worker per CPU unless PYTEST_WORKERS says otherwise: the suite
# is mostly subprocesses and servers. `--dist worksteal` hands each worker a contiguous run of
# tests, so a module's tests mostly share a worker and its module-scoped fixture is set up once
# (twice if a split lands inside it), and moves the tail of a busy worker's queue to an idle one.
# `loadfile` would pin the corpus module, over a third of the CPU time, to one worker, and
# `loadgroup` silently stops grouping with pytest 9.2 (pytest-xdist issue 1386).
# `pytest -m "not slow"` leaves out the slowest cases for a quick local loop.
PYTEST_WORKERS ?= auto
test: $(STAMP) postgres lint typecheck check diff browser
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist worksteal

# Headless Chromium for tests/test_html_report.py (Debian's package); nothing to do when present.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		echo "installing chromium (apt-get) for the HTML report test"; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; \
	}

# Benchmarks against peers measured in the same run (benchmarks/); not part of `make test`.
# The first run creates benchmarks/.venv-peers; BENCH_ARGS=--rev=HEAD measures a commit.
bench-generate: $(STAMP)
	$(BIN)/python benchmarks/generate.py $(BENCH_ARGS)

bench-corpus: $(STAMP)
	$(BIN)/python benchmarks/corpus.py $(BENCH_ARGS)

# `contract diff` against the verdicts oasdiff's own tests assert (../shared/peers/oasdiff).
bench-oasdiff: $(STAMP)
	$(BIN)/python ../shared/peers/oasdiff/bench.py --contract $(CURDIR)/benchmarks/contract-allow-invalid -j 2

# Agno's own AgentOS against our contracts (examples/agno/): builds examples/agno/.venv on first
# use, serves it on 127.0.0.1 with and without OS_SECURITY_KEY, writes reports/agno/ and
# docs/third-party/agno.md; then against Agno's own 131-operation document, beside plain
# `st run --checks all` (reports/agno/own.json, docs/third-party/agno-own-document.md).
# Not part of `make test` (tests/test_agno_conformance.py is).
conform-agno: $(STAMP)
	$(BIN)/python examples/agno/conform_agno.py --reports reports/agno
	$(BIN)/python examples/agno/make_doc.py reports/agno --out docs/third-party/agno.md --strict
	$(BIN)/python examples/agno/own_document.py --reports reports/agno

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
