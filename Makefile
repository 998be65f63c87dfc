# One target per habit; `make run` and `make test` are the two a newcomer needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-unit test-integration test-faults lint format bench bench-scale docs clean

# A .venv with the pinned dependencies (constraints.txt) and newsflow itself.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/newsflow up --seed seeds/

test: install
	$(PY) -m pytest

test-unit: install
	$(PY) -m pytest tests/unit

test-integration: install
	$(PY) -m pytest tests/integration tests/e2e

# Kill workers and restart Redis while 5,000 articles flow; prints the figures per scenario.
test-faults: install
	$(PY) -m pytest tests/faults -m faults -s

# Throughput, latency and memory next to raw redis-py and bare spaCy; writes bench/results/.
bench: install
	$(PY) -m bench.bench $(BENCH_ARGS)

# Search latency and sink rate at 10%, 50% and 100% of N stored articles (default
# 200,000 on SQLite); SCALE_ARGS="--n 20000 --database-url postgresql://..." for PostgreSQL.
bench-scale: install
	$(PY) -m bench.scale $(SCALE_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The AsyncAPI document of the streams (checked in; a test fails when it is stale).
docs: install
	$(VENV)/bin/newsflow docs --output docs/asyncapi.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
