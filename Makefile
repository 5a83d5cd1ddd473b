# The two commands a newcomer needs: `make run` and `make test`. See README.md.
SHELL := /bin/bash
# Python 3.12+ (Django 6.1 needs it); .python-version makes pyenv's python3 resolve to 3.12.
# The first of these that runs and is new enough (pyenv shims exist even for versions not selected).
PYTHON ?= $(shell for p in python3 python3.13 python3.12; do \
	$$p -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run dev test test-sqlite test-postgres checks lint format clean
# A throwaway PostgreSQL server around a command (tests/postgres.py).
WITH_POSTGRES := $(BIN)/python -m tests.postgres
# Extra pytest arguments, e.g. make test-sqlite PYTEST_ARGS="-k search -x"
PYTEST_ARGS ?=

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed: install it, then retry."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,postgres,s3]"
	@touch $@

# axe-core for the accessibility tests (package.json); skipped, with a message, without npm.
node_modules/.installed: package.json
	@if command -v npm >/dev/null; then npm install --silent --no-save && touch $@; \
	else echo "npm not found: the accessibility tests will be skipped (CI fails instead)."; fi

# The studio as production runs it (DEBUG off, granian, whitenoise, the friendly error pages): the
# web server and the background workers under `manage.py serve`, which migrates and collects the
# static files first; Ctrl-C stops it (running jobs get WORKER_GRACE seconds; Ctrl-C again: now).
# The secret key is made on first run in .state/secret-key (0600). Plain HTTP, so cookies are not
# marked Secure unless SECURE_COOKIES=1: production over TLS keeps them Secure (README). The demo
# account is made only when the studio listens on this machine alone (HOST a loopback address).
# The offline provider takes OFFLINE_LATENCY seconds per image (3 by default here) to watch.
run: $(BIN)/.installed
	@case "$(HOST)" in 127.*|localhost|::1) \
		$(BIN)/python manage.py migrate --no-input --verbosity 0 && \
		DEBUG=1 $(BIN)/python manage.py ensure_demo_account >/dev/null && \
		demo="Sign in as demo / demo-studio (or create your own account).";; \
	*) demo="Create an account at http://$(HOST):$(PORT)/accounts/signup/";; esac; \
	echo; echo "  Image studio: http://$(HOST):$(PORT)/"; echo "  $$demo"; \
	if [ -z "$$COMETAPI_KEY" ]; then echo "  No COMETAPI_KEY: images come from the built-in offline provider."; fi; \
	echo
	@SECURE_COOKIES=$${SECURE_COOKIES:-0} OFFLINE_LATENCY=$${OFFLINE_LATENCY:-3} \
		$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

# Development: DEBUG on, Django's autoreloading server and the workers; Ctrl-C stops both.
dev: $(BIN)/.installed
	DEBUG=1 $(BIN)/python manage.py migrate --no-input --verbosity 0
	DEBUG=1 $(BIN)/python manage.py ensure_demo_account
	@export DEBUG=1 OFFLINE_LATENCY=$${OFFLINE_LATENCY:-3}; \
	trap 'kill $$workers $$web 2>/dev/null; wait' INT TERM EXIT; \
	$(BIN)/python manage.py run_workers & workers=$$!; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT) & web=$$!; \
	wait -n $$workers $$web

# Every test on SQLite (and the browser tests), then again on a real PostgreSQL server started (and removed) for the run.
# Checks for PostgreSQL first, so a machine without it fails at once with what to do.
test: $(BIN)/.installed node_modules/.installed
	@$(WITH_POSTGRES) --check
	@$(MAKE) --no-print-directory test-sqlite test-postgres

test-sqlite: checks
	DATABASE_URL=sqlite:///db.sqlite3 $(BIN)/pytest $(PYTEST_ARGS)

# The browser tests run once, in the SQLite pass: they drive a studio server of their own.
test-postgres: $(BIN)/.installed
	$(WITH_POSTGRES) -- $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

checks: lint
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
