# `make test` works on a fresh machine: it creates .venv, installs, lints, type-checks and tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install lint test bench docs clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test: lint
	$(PY) -m pytest

# Render prod under mocks with 10, 100 and 1,000 cities: time, resources, policy sizes.
bench: install
	$(PY) -m bench.render_scale

# Regenerate the generated parts of Pulumi.yaml and the README's settings table.
docs: install
	$(PY) -m infra.settings

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
