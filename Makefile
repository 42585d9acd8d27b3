# dealerbot — the two commands a newcomer needs are `make run` and `make test`.
# Both set up what they need first: .venv (Python >= 3.11, the app) and .venv-rasa (Python 3.10,
# Rasa 3.6, the NLU server). Setup is idempotent: a stamp per environment records the last install,
# and only a changed pyproject.toml or nlu/requirements-rasa.txt installs again.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
PYTHON310 ?=
VENV := .venv
RASA_VENV := .venv-rasa
APP_STAMP := $(VENV)/.installed
RASA_STAMP := $(RASA_VENV)/.installed
DEALERBOT := $(VENV)/bin/dealerbot
DEMO_PHONE ?= +971501234567
HOST ?= 127.0.0.1
PORT ?= 8080
PYTEST_ARGS ?=
WORKERS ?= auto

.PHONY: help setup browser run stop test test-fast nlu-table nlu-table-missing bench clean

help:
	@echo "make run    set up, prepare the database with demo data, start the assistant"
	@echo "make test   set up and run the whole test suite (SQLite and PostgreSQL)"
	@echo "make test-fast  every test that needs no Rasa server (NLU from tests/data/nlu_table.yml)"
	@echo "make nlu-table  record tests/data/nlu_table.yml from the real model (trains and starts Rasa)"
	@echo "make nlu-table-missing  record only the messages the table lacks"
	@echo "make bench  run the benchmarks and print their figures"
	@echo "make stop   stop the NLU server that make run left running"

setup: $(APP_STAMP) $(RASA_STAMP)

$(APP_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "$(PYTHON) is Python %d.%d; dealerbot needs Python >= 3.11 (make PYTHON=/path/to/python3.11)" % sys.version_info[:2])'
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade 'pip>=24'
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	@touch $@

$(RASA_STAMP): nlu/requirements-rasa.txt scripts/find-python310
	@py310=$$(PYTHON310='$(PYTHON310)' scripts/find-python310); \
	  test -x $(RASA_VENV)/bin/python || "$$py310" -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install --quiet --upgrade 'pip>=24'
	$(RASA_VENV)/bin/python -m pip install --quiet -r nlu/requirements-rasa.txt
	@touch $@

# The staff console's browser tests drive headless Chromium: Debian's chromium and chromium-driver
# (/usr/bin/chromium, /usr/bin/chromedriver), installed here when missing (as root, else with sudo).
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  echo "installing chromium and chromium-driver (Debian packages) for the browser tests"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium chromium-driver

run: setup
	$(DEALERBOT) db upgrade
	$(DEALERBOT) db seed-demo --if-empty
	$(DEALERBOT) nlu serve --detach
	@# With a channel's credentials set, the web app (webhooks or Telegram polling) in the foreground;
	@# with none, the terminal chat as the demo customer.
	if $(DEALERBOT) channels; then \
	  exec $(DEALERBOT) serve --host '$(HOST)' --port '$(PORT)'; \
	else \
	  exec $(DEALERBOT) chat --phone '$(DEMO_PHONE)'; \
	fi

stop:
	$(DEALERBOT) nlu stop

# Everything: the fast tier on every core (pytest-xdist), then the tests that need Rasa (one server,
# trained first if config.yml or nlu/data/ changed). Exit status 5 is "no test selected" (PYTEST_ARGS).
test: setup browser
	$(VENV)/bin/python -m pytest -m "not rasa" -n $(WORKERS) $(PYTEST_ARGS) || test $$? -eq 5
	$(VENV)/bin/python -m pytest -m rasa $(PYTEST_ARGS) || test $$? -eq 5

# The fast tier: no training, no Rasa server; the conversation tests read the NLU table.
test-fast: $(APP_STAMP) browser
	$(VENV)/bin/python -m pytest -m "not rasa" -n $(WORKERS) $(PYTEST_ARGS)

# The conversation tests against the real model, writing what it answers into the NLU table.
nlu-table: setup
	DEALERBOT_RECORD_NLU=1 $(VENV)/bin/python -m pytest -m "not rasa" -p no:cacheprovider $(PYTEST_ARGS)

# The same, asking the model only for the messages the table lacks (tests written since the last recording).
nlu-table-missing: setup
	DEALERBOT_RECORD_NLU=missing $(VENV)/bin/python -m pytest -m "not rasa" -p no:cacheprovider $(PYTEST_ARGS)

bench: setup
	$(VENV)/bin/python -m benchmarks

clean:
	rm -rf $(VENV) $(RASA_VENV) var/ .pytest_cache
