# The two commands that matter: `make run` and `make test`. Both bootstrap a
# virtualenv from the committed lock file first; nothing has to be installed
# by hand beyond Python (3.11, 3.12 or 3.13).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.8
TOOLS := .kumiai/tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test test-unit test-integration lint typecheck bench openapi clean venv check-pythons

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): $(UV) uv.lock pyproject.toml shared/pyproject.toml tools/pyproject.toml $(wildcard services/*/pyproject.toml)
	$(UV) sync --frozen --all-packages --python $(PYTHON)
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/kumiai up

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy conftest.py shared tools services tests

test: lint typecheck
	$(VENV)/bin/pytest

test-unit: $(STAMP)
	$(VENV)/bin/pytest -m "not integration"

test-integration: $(STAMP)
	$(VENV)/bin/pytest -m integration

bench: $(STAMP)
	$(VENV)/bin/python -m kumiai_tools.bench

# Every Python the project supports that this machine has: the lock installs and the
# unit tests pass on each (one virtualenv per version under .kumiai/). An interpreter
# is python3.X on the PATH, or one installed under pyenv's versions folder.
PYTHONS ?= 3.11 3.12 3.13
check-pythons: $(UV)
	@for v in $(PYTHONS); do \
	  py=$$(command -v python$$v); \
	  if ! $$py -c '' 2>/dev/null; then \
	    py=$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$v.*/bin/python$$v 2>/dev/null | tail -1); \
	  fi; \
	  if [ -z "$$py" ] || ! $$py -c '' 2>/dev/null; then echo "python$$v: not on this machine"; continue; fi; \
	  echo "== python$$v ($$py)"; \
	  UV_PROJECT_ENVIRONMENT=.kumiai/py$$v $(UV) sync --frozen --all-packages --python $$py -q \
	    && .kumiai/py$$v/bin/pytest -m "not integration" -q -p no:cacheprovider \
	    || exit 1; \
	done

openapi: $(STAMP)
	$(VENV)/bin/kumiai openapi --output openapi.json

clean:
	rm -rf $(VENV) $(TOOLS)
