# Every target installs into .venv first when needed, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP_STAMP := $(VENV)/.installed-stamp
# dbt's manifest of dbt_project, from which the Dagster assets are defined.
DBT_MANIFEST := dbt_project/target/manifest.json
DBT_FILES := $(shell find dbt_project \( -name target -o -name logs -o -name data -o -name dbt_packages \) -prune -o -type f \( -name '*.sql' -o -name '*.yml' \) -print)
# Installed: the project and its dependencies in .venv (again when pyproject.toml
# changes), and dbt's manifest prepared (again when a file of dbt_project changes).
STAMP := $(DBT_MANIFEST)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: install demo test lint format bench dev sandbox clean

$(PIP_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the project and its dependencies into $(VENV) (first time: a few minutes) ..."
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(PIP_STAMP)

# As a deployment's image build prepares it: dbt parse, no warehouse needed.
$(DBT_MANIFEST): $(PIP_STAMP) $(DBT_FILES)
	$(BIN)/dagster-dbt project prepare-and-package --file ar_pipelines/defs/statements_dbt.py
	touch $(DBT_MANIFEST)

install: $(STAMP)

# DEMO_ARGS passes options on: DEMO_ARGS=--full-reconciliation runs the weekly job's work.
demo: $(STAMP)
	$(BIN)/ar-pipelines demo $(DEMO_ARGS)

test: $(STAMP)
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo
	VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/dg check defs

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# The Dagster UI (dagster dev on workspace.yaml) over the demo practices, with the sandbox
# serving their AR companies beside it: http://127.0.0.1:3000, API docs on :8080/docs.
dev: $(STAMP)
	$(BIN)/ar-pipelines dev

clean:
	rm -rf $(VENV) data dbt_project/target dbt_project/logs .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
