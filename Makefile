# Style Backend — every target creates (or reuses) .venv and the npm CDK CLI on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CDK := node_modules/.bin/cdk
CLIENT := clients/typescript
WEB_CLIENT := local/web/client.js
CLIENT_DIST := $(CLIENT)/dist/index.js
MOBILE := clients/mobile
MOBILE_WEB := $(MOBILE)/dist/index.html
PORT ?= 8000
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: up test check synth bench lint fmt seed clean help client bootstrap iac-scan train-smoke train register mobile mobile-test

help:
	@echo "make up     run the whole backend locally on http://127.0.0.1:$(PORT) (no AWS account)"
	@echo "make test   lint and run the whole test suite (what CI runs)"
	@echo "make check  the fast lane: lint and every test that needs no local runtime, no browser"
	@echo "            and no training (not e2e, browser or training; under 5 minutes)"
	@echo "make synth  synthesize every stack into cdk.out/ (offline, no Docker)"
	@echo "make bench  run the benchmarks and print their figures"
	@echo "make client regenerate the typed TypeScript client from docs/openapi.json"
	@echo "make mobile build the Expo app's web export into clients/mobile/dist (served by make up at /mobile/)"
	@echo "make bootstrap  install the git pre-commit hooks"
	@echo "make train-smoke   train FaceFlow's detector and embedder tiny on CPU, evaluate them"
	@echo "make train TASK=embedding|detection [DATASET=…] [HPS='{…}']   start a SageMaker job"
	@echo "make register JOB=<training job> [APPROVE=1]   register its model in the registry"

$(STAMP): requirements.txt requirements-dev.txt lambda/requirements.txt lambda/shared/requirements.txt scripts/setup_system.sh scripts/fetch_photos.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	bash scripts/setup_system.sh
	$(PY) scripts/fetch_photos.py
	touch $(STAMP)

# npm workspaces: the CDK CLI, the typed client's generator, bundler and type checker, and the
# Expo app (clients/mobile) with its jest tests.
$(CDK): package.json package-lock.json $(CLIENT)/package.json $(MOBILE)/package.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(CDK)

# The typed client as the web page imports it: one plain ES module, built here, never at run time.
$(WEB_CLIENT): $(CDK) $(wildcard $(CLIENT)/src/*.ts)
	node_modules/.bin/esbuild $(CLIENT)/src/index.ts --bundle --format=esm --target=es2020 \
	  --log-level=warning --outfile=$@

# The typed client as apps import it (@style-backend/client's dist/: ES modules + .d.ts).
$(CLIENT_DIST): $(CDK) $(wildcard $(CLIENT)/src/*.ts)
	npm run --silent --workspace $(CLIENT) build

# The Expo app's web export: offline (no Expo API call, no telemetry), from the pinned packages.
MOBILE_SOURCES := $(MOBILE)/app.json $(MOBILE)/index.ts $(MOBILE)/babel.config.js \
  $(wildcard $(MOBILE)/src/*.ts $(MOBILE)/src/*.tsx $(MOBILE)/src/*/*.tsx)
$(MOBILE_WEB): $(CDK) $(CLIENT_DIST) $(MOBILE_SOURCES)
	cd $(MOBILE) && EXPO_OFFLINE=1 EXPO_NO_TELEMETRY=1 CI=1 ../../node_modules/.bin/expo export \
	  --platform web --output-dir dist --clear >/dev/null
	touch $@

mobile: $(MOBILE_WEB)
	@echo "$(MOBILE)/dist: $$(cat $(MOBILE)/dist/_expo/static/js/web/*.js | gzip -9 | wc -c) bytes of JavaScript gzipped"

# The app type-checked, and its jest tests (jest-expo, React Native Testing Library; only the
# network, the OS photo picker and native storage are stood in for).
mobile-test: $(CDK) $(CLIENT_DIST)
	npm run --silent --workspace $(MOBILE) typecheck
	npm test --silent --workspace $(MOBILE) -- --ci

# After docs/openapi.json changes: regenerate the client's types, type-check the wrapper against
# them, rebuild the package (dist/) and the page's bundle. The suite fails while this is pending.
client: $(CDK)
	node $(CLIENT)/scripts/generate.mjs
	npm run --silent --workspace $(CLIENT) check
	npm run --silent --workspace $(CLIENT) build
	$(MAKE) --no-print-directory $(WEB_CLIENT)

# Git hooks (.pre-commit-config.yaml): local hooks running .venv's tools, nothing fetched.
bootstrap: $(STAMP)
	$(VENV)/bin/pre-commit install --install-hooks

# The IaC scan CI runs over cdk.out (`make synth` first), in a venv of its own: checkov's pins
# clash with the app's. --skip-download: offline, no Prisma Cloud guideline look-up. It fails on
# any failed check: fix it, or skip it on the resource with a reason (stacks/nag.py,
# skip_checkov; docs/security.md). With .venv-iac present, `make test` runs it too
# (tests/unit/test_hardening.py); CI's `make test` does not install checkov (~1.5 min).
IAC_STAMP := .venv-iac/.installed

$(IAC_STAMP): requirements-iac.txt
	test -x .venv-iac/bin/python || $(PYTHON) -m venv .venv-iac
	.venv-iac/bin/pip install --quiet -r requirements-iac.txt
	touch $(IAC_STAMP)

iac-scan: $(IAC_STAMP)
	test -d cdk.out || $(MAKE) --no-print-directory synth
	.venv-iac/bin/checkov -d cdk.out --framework cloudformation --skip-download --quiet --compact

up: $(STAMP) $(CDK) $(WEB_CLIENT)
	PORT=$(PORT) $(PY) -m local

# pytest-xdist: PYTEST_WORKERS processes (0: none, in-process), grouped by tests/conftest.py
# (--dist loadgroup): every e2e test on one worker (the local runtime starts once), the tests of
# the synthesized app on one, any other module's tests together. Then, in one process, the tests
# marked `serial`: xdist workers run only the first of schemathesis' parametrized cases.
PYTEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup
PYTEST_SERIAL := $(PY) -m pytest
# pytest exits 5 when it collects nothing: that is not a failure of the suite.
NOT_EMPTY := || { rc=$$?; [ $$rc -eq 5 ] || exit $$rc; }
FAST_LANE := not e2e and not browser and not training

test: $(STAMP) $(CDK) $(WEB_CLIENT) $(MOBILE_WEB) lint mobile-test
	$(PYTEST) -m "not serial" $(PYTEST_ARGS) $(NOT_EMPTY)
	$(PYTEST_SERIAL) -m "serial" $(PYTEST_ARGS) $(NOT_EMPTY)

# The fast lane: what needs no local runtime (`make up`), no browser and no training.
check: $(STAMP) $(CDK) $(WEB_CLIENT) lint mobile-test
	$(PYTEST) -m "$(FAST_LANE) and not serial" $(PYTEST_ARGS) $(NOT_EMPTY)
	$(PYTEST_SERIAL) -m "$(FAST_LANE) and serial" $(PYTEST_ARGS) $(NOT_EMPTY)

# Offline: no Docker, no AWS credentials (assets bundle locally; cdk-nag runs as a validation plugin).
# CDK_CONTEXT: extra `-c key=value` (CI adds github_repository to synthesize the delivery stack).
synth: $(STAMP) $(CDK)
	$(CDK) synth --quiet --no-notices --output cdk.out $(CDK_CONTEXT)
	@ls cdk.out/*.template.json

bench: $(STAMP) $(CDK)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# FaceFlow's own models (byoc/faceflow_models/README.md). The sagemaker SDK is heavy: only
# `make train` / `make register` install it, into their own venv.
FACEFLOW_MODELS := byoc/faceflow_models
LAUNCH_VENV := .venv-launch
LAUNCH_STAMP := $(LAUNCH_VENV)/.installed

$(LAUNCH_STAMP): $(FACEFLOW_MODELS)/requirements-launch.txt
	test -x $(LAUNCH_VENV)/bin/python || $(PYTHON) -m venv $(LAUNCH_VENV)
	$(LAUNCH_VENV)/bin/pip install --quiet -r $(FACEFLOW_MODELS)/requirements-launch.txt
	touch $(LAUNCH_STAMP)

train-smoke: $(STAMP)
	PYTHONPATH=.:lambda/shared:$(FACEFLOW_MODELS) $(PY) $(FACEFLOW_MODELS)/faceflow_smoke.py

train: $(LAUNCH_STAMP)
	@test -n "$(TASK)" || { echo "make train TASK=embedding|detection"; exit 2; }
	$(LAUNCH_VENV)/bin/python $(FACEFLOW_MODELS)/faceflow_launch.py train --task $(TASK) \
		$(if $(DATASET),--dataset $(DATASET)) $(if $(HPS),--hyperparameters '$(HPS)')

register: $(LAUNCH_STAMP)
	@test -n "$(JOB)" || { echo "make register JOB=<training job name>"; exit 2; }
	$(LAUNCH_VENV)/bin/python $(FACEFLOW_MODELS)/faceflow_launch.py register --job $(JOB) \
		$(if $(APPROVE),--approve)

clean:
	rm -rf cdk.out .pytest_cache build
