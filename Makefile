# The two commands of the quick start: `make serve` and `make test`.
# Both create .venv and install the project on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
PY_DIRS := $(wildcard src tests benchmarks)
# Test processes: one per core and one more, as many tests wait on servers, subprocesses and the browser.
# The usable cores where Python knows them (Linux), else all of them (macOS has no sched_getaffinity).
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(len(os.sched_getaffinity(0)) + 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) + 1)')

.PHONY: setup build serve test lint format clean

$(STAMP): pyproject.toml
	@echo "== Creating $(VENV) and installing opioid-kg with its dependencies (first run only, 1-2 minutes)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar off -e '.[test]'
	touch $(STAMP)
	@echo "== Installed; kg is at $(BIN)/kg"

setup: $(STAMP)

# Rebuild when any input changes; the build is atomic, so a failure keeps the last good one.
.kg/store/CURRENT: $(STAMP) $(shell find ontology graph sources -name '*.ttl' -o -name '*.txt' -o -name '*.csv' -o -name '*.json' 2>/dev/null)
	@echo "== Building the graph: checking every excerpt and shape, loading the store (a second or two for the report)"
	$(BIN)/kg build

build: $(STAMP)
	$(BIN)/kg build

serve: .kg/store/CURRENT
	@echo "== Serving on port $(PORT); kg serve names the address it bound below (Ctrl+C stops)"
	$(BIN)/kg serve --port $(PORT)

test: $(STAMP)
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)
	$(BIN)/mypy
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check $(PY_DIRS)

format: $(STAMP)
	$(BIN)/ruff format $(PY_DIRS)
	$(BIN)/ruff check --fix $(PY_DIRS)

clean:
	rm -rf dist .kg .pytest_cache .ruff_cache
