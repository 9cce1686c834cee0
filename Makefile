# `make run` and `make test` are all the set-up there is: they bootstrap .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PIP := $(BIN)/pip --disable-pip-version-check -q

.PHONY: install run test lint typecheck generate check golden clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import generator, fastapi, schemathesis, datamodel_code_generator"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/contract validate
	$(BIN)/contract generate
	$(BIN)/contract check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy generator generated

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

test: $(STAMP) lint typecheck check
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
