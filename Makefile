# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export FLEETCARE_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test lint typecheck bench install clean

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "fleetcare needs Python 3.11 or newer"; exit 2; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# A real hawkBit DDI client for the tests: rauc-hawkbit's `rauc_hawkbit.ddi` needs only
	# aiohttp (pinned in the dev extra); its declared gbulb dependency builds PyGObject from
	# source for the D-Bus updater around it, which the tests do not use.
	$(BIN)/pip install --quiet --no-deps rauc-hawkbit==0.2.0
	touch $(STAMP)

install: $(STAMP)

# Links and the login hint name the address served, e.g. with `make run PORT=8080`.
run: export FLEETCARE_BASE_URL ?= http://$(HOST):$(PORT)
run: $(STAMP)
	$(BIN)/fleetcare init
	$(BIN)/fleetcare demo --if-empty
	$(BIN)/fleetcare serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
