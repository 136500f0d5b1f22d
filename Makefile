# Knotwork: the README's commands. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEB := src/knotwork/web/static/dist/.built
DB ?= sqlite:///knotwork.db
PORT ?= 8000
# `make demo SERVE=0` stops before serving (for scripts)
SERVE ?= 1
BENCH_REPO ?= $(firstword $(wildcard ../.mirror/DPDK+dpdk/repo /work/.mirror/DPDK+dpdk/repo))

.PHONY: demo test lint bench docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The web app's islands of script: npm packages from the lockfile, bundled by esbuild.
$(WEB): frontend/package-lock.json frontend/build.mjs $(wildcard frontend/src/*.ts frontend/src/lib/*.ts)
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build
	touch $(WEB)

demo: $(STAMP) $(WEB)
	$(BIN)/knotwork ingest git . --db $(DB)
	$(BIN)/knotwork stats --db $(DB)
	$(BIN)/knotwork top people --limit 5 --db $(DB)
	$(BIN)/knotwork who-knows src/knotwork/store/ --limit 3 --db $(DB)
	@token=$$($(BIN)/knotwork users add demo-admin --role admin --db $(DB) --json \
	  | $(BIN)/python -c 'import json, sys; print(json.load(sys.stdin)["token"])') && \
	echo && echo "Web app: http://127.0.0.1:$(PORT)/  (log in with the admin token below)" && \
	echo "Admin token (demo-admin): $$token" && echo && \
	if [ "$(SERVE)" = 1 ]; then exec $(BIN)/knotwork serve --port $(PORT) --db $(DB); fi

test: $(STAMP) $(WEB)
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-chromium.sh
	cd frontend && npm run --silent check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	KNOTWORK_REQUIRE_POSTGRES=1 $(BIN)/pytest

lint: $(STAMP) $(WEB)
	cd frontend && npm run --silent check
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
