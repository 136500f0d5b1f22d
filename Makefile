# Knotwork: the README's commands. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= sqlite:///knotwork.db
BENCH_REPO ?= $(firstword $(wildcard ../.mirror/DPDK+dpdk/repo /work/.mirror/DPDK+dpdk/repo))

.PHONY: demo test lint bench docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/knotwork ingest git . --db $(DB)
	$(BIN)/knotwork stats --db $(DB)
	$(BIN)/knotwork top people --limit 5 --db $(DB)
	$(BIN)/knotwork who-knows src/knotwork/store/ --limit 3 --db $(DB)

test: $(STAMP)
	bash scripts/ensure-postgres.sh
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	KNOTWORK_REQUIRE_POSTGRES=1 $(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/python -m knotwork.cli.reference > docs/cli.md

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@test -n "$(BENCH_REPO)" || { echo "set BENCH_REPO=/path/to/a/large/git/repository"; exit 2; }
	$(BIN)/python bench/ingest_git.py $(BENCH_REPO)

clean:
	rm -rf $(VENV) knotwork.db knotwork.db-wal knotwork.db-shm
