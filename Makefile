# Every target installs into .venv first when needed, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: install demo test lint format bench dev sandbox clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/ar-pipelines demo --out data/demo

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# Until the Dagster project exists: the sandbox with a bootstrapped company, docs at /docs.
dev: $(STAMP)
	$(BIN)/ar-sandbox bootstrap --database sqlite:///data/dev/ar_sandbox.db
	@echo "API docs: http://127.0.0.1:8080/docs"
	$(BIN)/ar-sandbox serve --database sqlite:///data/dev/ar_sandbox.db --port 8080 --log-level info

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .hypothesis
