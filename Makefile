# The two commands of the README: `make run` and `make test`. Only Python 3.11 and make needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PORT

.PHONY: run test install install-dev messages lint format lock bench bench-tickets bench-sla bench-calls bench-mail bench-feature-requests bench-outages bench-kpis clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.base: requirements/base.lock | $(VENV)/bin/python
	$(PY) -m pip install --quiet --require-hashes -r requirements/base.lock
	touch $@

$(VENV)/.dev: requirements/dev.lock | $(VENV)/bin/python
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.lock
	touch $@ $(VENV)/.base

install: $(VENV)/.base
install-dev: $(VENV)/.dev

## make run: install, migrate, seed the demo data, start web + worker + beat (Ctrl-C stops all)
# The demo lets agents sign in without a second factor unless told otherwise; management
# and admin accounts still set up an authenticator app at their first sign-in.
run: export TWO_FACTOR_FOR_AGENTS ?= optional
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "==> http://127.0.0.1:$(PORT)/  (workspace /agent/, portal /portal/, API docs /api/docs/)"
	@echo "==> two-factor sign-in for agents: $$TWO_FACTOR_FOR_AGENTS (management and admin always set up an authenticator app)"
	$(VENV)/bin/honcho start -f Procfile -p $(PORT)

## make test: install what tests need and run the whole suite (lint and migrations included)
test: install-dev
	$(PY) -m pytest -n 2 --dist loadgroup

## make messages: extract strings (needs GNU gettext) and compile .po -> .mo (Python only)
messages: install-dev
	$(PY) manage.py makemessages -l de -l en -l pl --ignore=.venv --ignore=var --ignore=tests --no-location
	$(PY) manage.py compiletranslations

lint: install-dev
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

## make lock: re-pin requirements/*.lock from pyproject.toml
lock: install-dev
	$(VENV)/bin/pip-compile -q --generate-hashes --strip-extras --no-emit-index-url --allow-unsafe -o requirements/base.lock pyproject.toml
	$(VENV)/bin/pip-compile -q --generate-hashes --strip-extras --no-emit-index-url --allow-unsafe --extra dev -o requirements/dev.lock pyproject.toml

## make bench: customer search at 100,000 customers (set DATABASE_URL to PostgreSQL first)
bench: install-dev
	$(PY) bench/customer_search.py

## make bench-tickets: pages and API at 1,000,000 tickets over HTTP (DATABASE_URL as for bench)
bench-tickets: install-dev
	$(PY) bench/tickets.py

## make bench-sla: SLA timer passes at 10k, 100k and 1M open tickets (DATABASE_URL as for bench)
bench-sla: install-dev
	$(PY) bench/sla.py

## make bench-calls: screen pop latency, API call to the agent's poll (gunicorn, 50 polling agents)
bench-calls: install-dev
	$(PY) bench/calls.py

## make bench-mail: inbound e-mails filed per second, some with a 200 KB PDF (one process)
bench-mail: install-dev
	$(PY) bench/inbound_mail.py

## make bench-feature-requests: list by asks and "find before you file" at 100k requests, 5M asks (DATABASE_URL as for bench)
bench-feature-requests: install-dev
	$(PY) bench/feature_requests.py

## make bench-outages: the outage check on a customer page at 1M customers, resolving 20,000 linked tickets (DATABASE_URL as for bench)
bench-outages: install-dev
	$(PY) bench/outages.py

## make bench-kpis: KPI roll-up, report (30/365 days) and board over a year of 1M tickets and 300k calls (DATABASE_URL as for bench)
bench-kpis: install-dev
	$(PY) bench/kpis.py

clean:
	rm -rf $(VENV) var
