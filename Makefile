# The two commands a newcomer needs:  `make run`  and  `make test`.
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint services bench clean

$(BIN)/.installed: pyproject.toml scripts/install-system-deps.sh
	scripts/install-system-deps.sh
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/.installed

## Migrate, load templates, create demo users/data on an empty database, serve on 127.0.0.1:8000.
run: setup
	$(BIN)/hiring db upgrade
	$(BIN)/hiring templates sync
	$(BIN)/hiring demo
	$(BIN)/gunicorn --workers 2 --bind $(HOST):$(PORT) --access-logfile - wsgi:app

## Lint, format and type checks, then the whole test suite, on SQLite and PostgreSQL, with real Redis,
## in two processes (a test file stays in one; each process has its own databases, see tests/conftest.py).
test: setup services lint
	$(BIN)/pytest -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

services:
	scripts/ensure-services.sh

## Benchmarks at 1k/10k/100k applications (not part of `make test`); see BENCHMARKS.md.
## `make bench BENCH_ARGS=--quick` for a smoke run; `--help` lists the options.
bench: setup services
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
