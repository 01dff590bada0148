# hubsync: `make run` starts the embedded demo, `make test` runs every check.
# Both install what they need first, so they work on a fresh clone.

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
VENDOR := app/ui/static/vendor/VENDORED.txt
PORT ?= 8000

.PHONY: run test setup services browser lint typecheck pytest clean

run: setup ## Install everything and serve the embedded demo at http://127.0.0.1:8000
	$(BIN)/hubsync demo --port $(PORT)

test: setup services browser lint typecheck pytest ## Install everything and run every check

setup: $(BIN)/hubsync $(VENDOR)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(BIN)/hubsync: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --all-extras --python $(PYTHON) --quiet
	@touch $@

$(VENDOR): package.json package-lock.json scripts/vendor_assets.py | $(BIN)/hubsync
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	$(BIN)/python scripts/vendor_assets.py

services: ## Start PostgreSQL and MariaDB if they are not running
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@mariadb-admin -h 127.0.0.1 -uroot ping >/dev/null 2>&1 || start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
	@for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done

browser: ## Debian's Chromium for the browser tests (Playwright drives it, never downloads one)
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest

clean:
	rm -rf $(VENV) $(TOOLS) node_modules app/ui/static/vendor .mypy_cache .ruff_cache .pytest_cache
