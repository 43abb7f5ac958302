# Headwater. Quick start: `make demo` (set up + materialize everything on sample data),
# `make test` (the whole suite). Every target sets up what it needs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# HEADWATER_INSTANCE=postgres: the Dagster instance in PostgreSQL (deploy/postgres-storage.yaml).
# HEADWATER_PROFILE=distributed: the Postgres instance and warehouse, steps on Celery workers.
ifeq ($(HEADWATER_PROFILE),distributed)
HEADWATER_INSTANCE := postgres
export DAGSTER_HOME ?= $(CURDIR)/.dagster-distributed
endif
ifeq ($(HEADWATER_INSTANCE),postgres)
export DAGSTER_HOME ?= $(CURDIR)/.dagster-postgres
export HEADWATER_PG_HOST ?= 127.0.0.1
export HEADWATER_PG_PORT ?= 5432
export HEADWATER_PG_USER ?= postgres
export HEADWATER_PG_PASSWORD ?=
export HEADWATER_PG_DB ?= dagster
export DAGSTER_EVENT_BATCH_SIZE ?= 500
else
export DAGSTER_HOME ?= $(CURDIR)/.dagster
endif
export HEADWATER_WAREHOUSE ?= $(CURDIR)/data/warehouse.duckdb

# Test processes: each gets its own warehouse, sample data and Dagster home (tests/conftest.py).
# worksteal: a process that runs out of tests takes some of the other's, so the suite does
# not end with one process idle while the other still has a queue of slow end-to-end tests.
TEST_WORKERS ?= 2

.PHONY: setup demo dev check test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# dagster-dbt loads the manifest at import: parse once here, never at import time.
dbt_project/target/manifest.json: $(VENV)/.installed $(shell find dbt_project/models dbt_project/macros dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml
	cd dbt_project && ../$(BIN)/dbt parse --quiet
	touch $@

setup: dbt_project/target/manifest.json
	$(BIN)/python -m headwater.cli.setup

demo: setup
	$(BIN)/headwater demo

dev: setup
	bash scripts/dev.sh

# After each edit: unit and fast integration tests, everything not marked slow (about two
# minutes here). `make test` runs the whole suite, as CI does.
check: setup
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal -m "not slow"

test: setup
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

# ruff, then the layer contracts of pyproject.toml ([tool.importlinter]): nothing imports
# upward, no domain imports another, no import circles.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

bench: setup
	$(BIN)/python -m bench.run

clean:
	rm -rf data .dagster .dagster-postgres .dagster-distributed dbt_project/target
