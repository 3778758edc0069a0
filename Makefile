# Style Backend — every target creates (or reuses) .venv and the npm CDK CLI on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CDK := node_modules/.bin/cdk
PORT ?= 8000
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: up test synth bench lint fmt seed clean help

help:
	@echo "make up     run the whole backend locally on http://127.0.0.1:$(PORT) (no AWS account)"
	@echo "make test   lint and run the test suite"
	@echo "make synth  synthesize every stack into cdk.out/ (offline, no Docker)"
	@echo "make bench  run the benchmarks and print their figures"

$(STAMP): requirements.txt requirements-dev.txt lambda/requirements.txt lambda/shared/requirements.txt scripts/setup_system.sh scripts/fetch_photos.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	bash scripts/setup_system.sh
	$(PY) scripts/fetch_photos.py
	touch $(STAMP)

$(CDK): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(CDK)

up: $(STAMP) $(CDK)
	PORT=$(PORT) $(PY) -m local

test: $(STAMP) $(CDK)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	# pytest exits 5 when it collects nothing: that is not a failure of the suite.
	$(PY) -m pytest $(PYTEST_ARGS) || { rc=$$?; [ $$rc -eq 5 ] || exit $$rc; }

# Offline: no Docker, no AWS credentials (assets bundle locally; cdk-nag runs as a validation plugin).
synth: $(STAMP) $(CDK)
	$(CDK) synth --quiet --no-notices --output cdk.out
	@ls cdk.out/*.template.json

bench: $(STAMP) $(CDK)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf cdk.out .pytest_cache build
