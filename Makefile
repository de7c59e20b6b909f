# CBS: `make run` serves the demo bank, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The suite and check-deploy run on PostgreSQL; `make run` keeps the local settings'
# SQLite under var/ unless DATABASE_URL is set in the environment.
POSTGRES_URL := postgres://postgres@127.0.0.1:5432/cbs
test test-unit test-e2e check-deploy: export DATABASE_URL ?= $(POSTGRES_URL)

# The first Python of 3.12 or newer on this machine (Django 6 needs it).
FIND_PYTHON = for c in python3.13 python3.12 python3.14 python3 python; do \
    p=$$(command -v $$c 2>/dev/null) || continue; \
    if $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then echo $$p; exit 0; fi; \
  done; exit 1

.PHONY: help run test test-unit test-e2e venv install install-test browser lint migrate seed check-deploy \
        bench-ledger bench-teller bench-payments clean

help:
	@echo "make run        serve the demo bank on http://127.0.0.1:8000 (SQLite under var/)"
	@echo "make test       the whole suite on PostgreSQL, Playwright journeys included"
	@echo "make test-unit  everything but the browser journeys"
	@echo "make test-e2e   only the Playwright journeys in e2e/"
	@echo "make lint       ruff"

$(VENV)/bin/python:
	@py=$$($(FIND_PYTHON)) || { \
	  echo "CBS needs Python 3.12 or newer and none was found."; \
	  echo "Install Python 3.13 (for example 'pyenv install 3.13') and run make again."; exit 1; }; \
	echo "Using $$py ($$($$py --version))"; \
	$$py -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements/base.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements/base.txt
	touch $@

$(VENV)/.installed-test: requirements/test.txt requirements/base.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements/test.txt
	touch $@

venv: $(VENV)/bin/python
install: $(VENV)/.installed
install-test: $(VENV)/.installed-test browser

# Playwright cannot download its own browser here: use Debian's Chromium.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Chromium from Debian's packages..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	@echo ""
	@echo "CBS is running on http://127.0.0.1:8000  (Ctrl-C stops it)"
	$(PY) manage.py runserver 127.0.0.1:8000

test: install-test
	$(PY) -m pytest

test-unit: install-test
	$(PY) -m pytest --ignore=e2e

test-e2e: install-test
	$(PY) -m pytest e2e

lint: install-test
	$(VENV)/bin/ruff check .

check-deploy: install
	DJANGO_SETTINGS_MODULE=config.settings.production \
	SECRET_KEY=$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')} \
	FIELD_ENCRYPTION_KEY=$${FIELD_ENCRYPTION_KEY:-$$($(PY) -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} ALLOWED_HOSTS=bank.example \
	$(PY) manage.py check --deploy --fail-level WARNING

# Ledger throughput against pgbench on the same PostgreSQL, and read latency with
# 1,000,000 postings. Last line: bench-ledger ratio=<...> target=0.5
bench-ledger: install-test
	$(PY) -m banking.ledger.bench

# The counter under load: 100,000 accounts and 1,000,000 postings in a database of its
# own, gunicorn on 127.0.0.1, 8 concurrent clients against the account look-up, posting
# a cash deposit and a trivial view. Last line: bench-teller ratio=<...> target=3
bench-teller: install-test
	$(PY) -m banking.teller.bench

# A NEFT cycle of 50,000 outward payments settled, and its 50,000-line settlement file
# reconciled, each against a plain set-based SQL pass over the same rows in the same run.
# Last line: bench-payments ratio=<worst of the two> target=5
bench-payments: install-test
	$(PY) -m banking.payments.bench

clean:
	rm -rf $(VENV) var/*.sqlite3* staticfiles e2e/artifacts
