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

# uv installs the environment from uv.lock (docs/operations.md, "Set-up"): the uv on PATH
# when it is the version pyproject.toml requires, else that version fetched from PyPI into
# .tools/ (not in git).
UV_VERSION := $(shell sed -n 's/^required-version = "==\(.*\)"/\1/p' pyproject.toml)
UV_HOME := .tools/uv-$(UV_VERSION)
UV ?= $(or $(shell uv --version 2>/dev/null | grep -q '^uv $(UV_VERSION)\b' && command -v uv),$(UV_HOME)/bin/uv)

# With the machine's pip when python3 has one, else a throwaway venv's (python3-venv, as before).
$(UV_HOME)/bin/uv:
	if $(PYTHON) -m pip --version >/dev/null 2>&1; then \
	  PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip install --quiet --disable-pip-version-check \
	    --upgrade --target $(UV_HOME) uv==$(UV_VERSION); \
	else \
	  $(PYTHON) -m venv $(UV_HOME) && $(UV_HOME)/bin/pip install --quiet uv==$(UV_VERSION); \
	fi

# --locked: a pyproject.toml changed without `uv lock` stops here rather than installing the
# old lock. The venv is the machine's python3; pyproject.toml's [tool.uv] forbids downloads.
$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --quiet --locked --extra dev --python $(PYTHON)
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
