# The two commands that matter: `make run` and `make test`. Both bootstrap a
# virtualenv from the committed lock file first; nothing has to be installed
# by hand beyond Python 3.11.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.8
TOOLS := .kumiai/tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test test-unit test-integration lint typecheck bench openapi clean venv

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): $(UV) uv.lock pyproject.toml shared/pyproject.toml $(wildcard services/*/pyproject.toml)
	$(UV) sync --frozen --all-packages --python $(PYTHON)
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/kumiai up

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy conftest.py shared services tests

test: lint typecheck
	$(VENV)/bin/pytest

test-unit: $(STAMP)
	$(VENV)/bin/pytest -m "not integration"

test-integration: $(STAMP)
	$(VENV)/bin/pytest -m integration

bench: $(STAMP)
	$(VENV)/bin/python -m kumiai.bench

openapi: $(STAMP)
	$(VENV)/bin/kumiai openapi --output openapi.json

clean:
	rm -rf $(VENV) $(TOOLS)
