# Every target installs into .venv first when needed, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: install demo test lint format bench dev sandbox clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the project and its dependencies into $(VENV) (first time: a few minutes) ..."
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

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
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
