# Two set-up-and-go targets: `make run` (install + start the daemon) and
# `make test` (install + the whole test suite). Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# One pytest worker per core; coverage follows the workers (patch = subprocess).
PYTEST_ARGS ?= -n auto

.PHONY: run test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

# A foreground daemon: no idle exit (Ctrl-C stops it). Daemons crushctl starts
# by itself exit after 60 s without a workspace (CRUSH_SERVER_IDLE_TIMEOUT).
run: $(STAMP)
	$(BIN)/crushd serve --idle-timeout inf $(ARGS)

test: $(STAMP)
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

lint: $(STAMP)
	$(BIN)/ruff check conftest.py crushd crushctl tests stress
	$(BIN)/ruff format --check conftest.py crushd crushctl tests stress
	$(BIN)/mypy conftest.py crushd crushctl tests stress

clean:
	rm -rf $(VENV) .coverage .coverage.* .pytest_cache .mypy_cache .ruff_cache .hypothesis
