# Ledger: `make run` serves the API on :8000; `make test` runs the whole suite.
# Both create the virtualenv and start the embedded PostgreSQL on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export LEDGER_DATA_DIR ?= $(CURDIR)/var

.PHONY: install run migrate test test-system-pg lint format typecheck bench db-stop clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/ledger migrate

run: migrate
	$(BIN)/ledger serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# The same suite against the machine's PostgreSQL instead of the embedded one.
test-system-pg: install
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

# PDFs/s, then report latency over 100,000 invoices, usage ingestion, chain verification
# and rebuild of every projection over 1,000,000 events, then invoices/s through HTTP (1 and
# 2 workers running the projections, then 2 workers beside a `ledger project` process).
bench: install
	$(BIN)/python -m tests.benchmarks.pdf_bench
	$(BIN)/python -m tests.benchmarks.report_bench
	$(BIN)/python -m tests.benchmarks.usage_bench
	$(BIN)/python -m tests.benchmarks.audit_bench
	$(BIN)/python -m tests.benchmarks
	$(BIN)/python -m tests.benchmarks --workers 2 --separate-projector

db-stop: install
	$(BIN)/ledger db stop

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
