# Two commands do everything on a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov in a venv of its own: its pins (boto3 1.35, packaging 23) conflict with the project's
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
# the customer's Node clients (tools/clients), installed from their lock file with the machine's npm
CLIENTS_STAMP := tools/clients/node_modules/.installed

.PHONY: demo test lint typecheck cfn-lint checkov unit workflow bench clean clients

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==24.3.1"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(CLIENTS_STAMP): tools/clients/package.json tools/clients/package-lock.json
	cd tools/clients && npm ci --no-audit --no-fund --loglevel=error
	touch $(CLIENTS_STAMP)

# `make demo` shows the AI SDK's call too where node is installed (one line says it is skipped otherwise)
clients:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(CLIENTS_STAMP) \
	  || echo "npm ci failed: the demo skips the AI SDK's call"; \
	else echo "node/npm not found: the Node clients (tools/clients) are not installed"; fi

demo: $(STAMP) clients
	$(BIN)/unblock demo

# pytest on TEST_WORKERS processes (pytest-xdist), each with its own embedded stack; a worker takes
# tests off another's queue when its own runs dry. One more than the CPUs: 3 on the 2-CPU machine beat
# 2 and 4 (BENCHMARKS.md section 7), since the workers wait on subprocesses and moto's threads part of
# the time. `make test TEST_WORKERS=0` runs the suite in this one process.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')

test: $(STAMP) $(CLIENTS_STAMP) lint typecheck cfn-lint checkov
	$(BIN)/pytest -p no:cacheprovider -n $(TEST_WORKERS) --dist worksteal --durations=25

lint: $(STAMP)
	$(BIN)/ruff check functions tools tests benchmarks
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy functions/unblock tools/unblock_dev

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml --append-rules cfn_lint_serverless.rules

$(CHECKOV): tools/checkov-requirements.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r tools/checkov-requirements.txt
	touch $(CHECKOV)

# every failed check is fixed or skipped in template.yaml (Metadata: checkov: skip) with its reason
checkov: $(CHECKOV)
	$(CHECKOV) -f template.yaml --framework cloudformation --compact --quiet --skip-download

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

workflow: $(STAMP)
	$(BIN)/pytest -q tests/workflow tests/contract

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis tools/clients/node_modules
