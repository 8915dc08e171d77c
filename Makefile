# The two commands of the README: `make run` and `make test`.
# Each creates the virtual environment and installs the project on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "readgroup needs Python 3.11 or newer (set PYTHON=python3.11)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q -j 0 bot adapters storage >/dev/null
	touch $(STAMP)

## run: start the bot; with no credentials it is the terminal console on SQLite, offline summaries.
## ARGS="..." runs that readgroup command instead, e.g. make run ARGS="console --user bob"
run: $(STAMP)
	@if [ -n '$(ARGS)' ]; then exec $(BIN)/readgroup $(ARGS); \
	elif [ -n "$$SLACK_BOT_TOKEN$$SLACK_APP_TOKEN" ] || grep -qs '^SLACK_BOT_TOKEN=.' .env; then \
		if [ -n "$$SLACK_APP_TOKEN" ] || grep -qs '^SLACK_APP_TOKEN=.' .env; then \
			exec $(BIN)/readgroup serve slack --socket; \
		else exec $(BIN)/readgroup serve slack --http; fi; \
	elif [ -n "$$DISCORD_TOKEN" ] || grep -qs '^DISCORD_TOKEN=.' .env; then \
		exec $(BIN)/readgroup serve discord; \
	else exec $(BIN)/readgroup console; fi

## test: the whole suite, on SQLite and on PostgreSQL (skipped with a message if no server, required when CI=true).
## In parallel (pytest-xdist, TEST_WORKERS processes, two per core: many tests wait on real
## processes and leases, so two per core keep the cores busy). The one test that restarts
## PostgreSQL does so on a server of its own (tests/own_postgres.py), so nothing runs alone.
## `--dist worksteal`: an idle worker takes tests queued on a busy one. With the default
## `load`, one worker was left with ~100 queued console tests and ran alone for the
## last 85 s of a 217 s run (174 s with worksteal, same machine).
## Bytecode is written even where PYTHONDONTWRITEBYTECODE is set: without it every
## pytest worker and every `readgroup` process a test starts compiles the project
## (and pytest rewrites the test modules) from source again.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))
test: $(STAMP)
	@unset PYTHONDONTWRITEBYTECODE; \
	$(BIN)/python -m compileall -q -j 0 bot adapters storage tests >/dev/null; \
	exec $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot storage adapters
	$(BIN)/lint-imports
	$(BIN)/pytest -q -p no:cacheprovider -p no:randomly tests/test_architecture.py

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
