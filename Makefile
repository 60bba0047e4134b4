.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
LMS_PORT ?= 8001
LRS_PORT ?= 8100

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(PY):
	python3 -m venv $(VENV)

install: $(PY) ## Install the project with the test and benchmark toolchain, and Ralph (the demo LRS)
	$(PY) -m pip install -q --disable-pip-version-check -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
	bash scripts/setup-ralph.sh

# The demo needs the app and Ralph only: no pytest, linters, browser driver or benchmark
# extras. pip's own progress lines show while it downloads; each step says what it does.
install-demo: $(PY) ## Install only what the demo runs (the app and Ralph), showing progress
	@echo "[1/2] Installing CX Academy and its runtime dependencies into $(VENV) ..."
	@$(PY) -m pip install --disable-pip-version-check -e .
	@echo "[2/2] Installing Ralph, the demo's learning record store (first run only) ..."
	@bash scripts/setup-ralph.sh
	@echo "Installed. Starting the demo ..."

run: install-demo ## Run the demo: tool, worker, beat, LRS and demo LMS; prints the URL to open
	$(VENV)/bin/cxa demo --port $(PORT) --lms-port $(LMS_PORT) --lrs-port $(LRS_PORT)

test: ## Run lint and the whole test suite (installs what it needs)
	bash scripts/test

bench: install ## Run the benchmarks (prints numbers; PostgreSQL and Redis on 127.0.0.1)
	$(PY) -m benchmarks.delivery --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
	$(PY) -m benchmarks.launch

lint: ## ruff and the import contracts
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/lint-imports

.PHONY: help install install-demo run test lint bench
