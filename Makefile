# Developer commands. `make run` and `make test` are the two a newcomer needs.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: install run test test-sqlite test-postgres lint ci clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# axe-core for the browser tests' accessibility checks (npm registry, as locked)
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $(AXE)

## Install (first time), then serve the API and web pages on SQLite with a demo province
## on http://127.0.0.1:$(PORT) (`make run PORT=8080` for another port).
run: install
	$(VENV)/bin/mediation serve --demo --port $(PORT)

## The whole test suite, on SQLite and on the local PostgreSQL.
test: install $(AXE)
	$(PY) -m pytest

test-sqlite: install $(AXE)
	MEDIATION_TEST_BACKENDS=sqlite $(PY) -m pytest

test-postgres: install $(AXE)
	MEDIATION_TEST_BACKENDS=postgres $(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check mediation projections api importer
	$(VENV)/bin/mypy

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
