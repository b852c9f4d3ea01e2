# model-router: `make run` serves, `make test` tests. `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv from PATH, or bootstrapped with pip into .tools/ (outside the project venv,
# which `uv sync` keeps exactly to the lock file).
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.DEFAULT_GOAL := help
.PHONY: help install run test lint typecheck pytest clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

.tools/bin/uv:
	@echo "uv not found: bootstrapping it into .tools/ with pip"
	$(PYTHON) -m venv .tools
	.tools/bin/pip install -q uv

$(BIN)/python: | $(UV)
	$(UV) venv --allow-existing --python $(PYTHON) $(VENV)

$(VENV)/.synced: $(BIN)/python pyproject.toml uv.lock
	$(UV) sync --frozen --compile-bytecode --python $(BIN)/python
	@touch $@

install: $(VENV)/.synced ## Create .venv and install the locked dependencies
	@# Bytecode for our sources too (uv compiled the dependencies'): where
	@# PYTHONDONTWRITEBYTECODE is set, nothing else writes it and every start
	@# compiles from source (start-up measured 4.4 s without, about 2 s with).
	@$(BIN)/python -m compileall -q src

run: install ## Migrate, load the catalogue, create an admin key if none, serve on :8001
	$(BIN)/model-router bootstrap
	$(BIN)/model-router serve

lint: install ## ruff format check and lint
	$(BIN)/ruff format --check src tests
	$(BIN)/ruff check src tests

typecheck: install ## mypy --strict
	$(BIN)/mypy

# Test files run in parallel, one worker per core (PYTEST_WORKERS=0: in this
# process); each worker has its own databases and mock servers, and a file's
# tests stay together on one worker.
PYTEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

pytest: install dashboard-deps e2e-clients ## the test suite, on SQLite and PostgreSQL, with coverage (and the dashboard in Chromium)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --cov --cov-report=term

test: lint typecheck dashboard-test pytest ## everything CI runs

.PHONY: e2e-clients
tests/e2e/clients/node_modules/.package-lock.json: tests/e2e/clients/package-lock.json
	cd tests/e2e/clients && npm ci --no-audit --no-fund

e2e-clients: tests/e2e/clients/node_modules/.package-lock.json ## the client tools the e2e tests drive (Claude Code CLI)

.PHONY: dashboard dashboard-deps dashboard-test
dashboard/node_modules/.package-lock.json: dashboard/package-lock.json
	cd dashboard && npm ci --no-audit --no-fund

dashboard-deps: dashboard/node_modules/.package-lock.json ## the dashboard's node modules (npm ci, when missing or stale)

dashboard: dashboard-deps ## rebuild the web UI into src/model_router/dashboard_dist (commit the result)
	cd dashboard && npm run build

dashboard-test: dashboard-deps ## the dashboard's type check and Vitest component tests
	cd dashboard && npm run typecheck && npm test

clean: ## remove the venv and caches (keeps data/)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage

.PHONY: bench bench-analytics
bench: install ## router vs a static nginx upstream and Portkey's gateway, side by side (BENCH_QUICK=1: 3 s phases; BENCH_NO_PEERS=1: no Portkey; BENCH_ANALYTICS=1: also bench-analytics)
	@bench/install-tools.sh
	$(BIN)/python bench/run.py
	@if [ "$(BENCH_ANALYTICS)" = 1 ]; then $(MAKE) --no-print-directory bench-analytics; fi

bench-analytics: install ## analytics API latency over BENCH_ROWS request rows (default 1,000,000), PostgreSQL and SQLite (slow the first time)
	$(BIN)/python bench/analytics.py

.PHONY: bench-ingest
bench-ingest: install ## the request-log writer's rows/s into PostgreSQL, and how soon rows are visible
	$(BIN)/python bench/ingest.py

.PHONY: soak
soak: install ## 10 minutes of mixed load (SOAK_SECONDS, SOAK_RATE): errors, RSS, rows vs requests
	@bench/install-tools.sh
	$(BIN)/python bench/soak.py
