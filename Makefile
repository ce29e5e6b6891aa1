# Two commands do everything on a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck cfn-lint unit workflow bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==24.3.1"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/unblock demo

test: $(STAMP) lint typecheck cfn-lint
	$(BIN)/pytest -p no:cacheprovider --durations=25

lint: $(STAMP)
	$(BIN)/ruff check functions tools tests benchmarks
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy functions/unblock tools/unblock_dev

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml --append-rules cfn_lint_serverless.rules

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

workflow: $(STAMP)
	$(BIN)/pytest -q tests/workflow tests/contract

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
