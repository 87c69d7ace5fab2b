# The README's two commands: `make run` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint format install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/clarion serve --demo

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check clarion tests $(wildcard bench)
	$(BIN)/ruff format --check clarion tests $(wildcard bench)
	$(BIN)/lint-imports --no-logo --no-cache

format: install
	$(BIN)/ruff format clarion tests $(wildcard bench)
	$(BIN)/ruff check --fix clarion tests $(wildcard bench)

clean:
	rm -rf $(VENV) build *.egg-info
