# One entry point per task. Every target sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run sandbox drill socket-sandbox test lint format bench screenshot db-upgrade clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/crisisbot run

sandbox: $(STAMP)
	$(BIN)/crisisbot sandbox

drill: $(STAMP)
	$(BIN)/crisisbot sandbox --drill

socket-sandbox: $(STAMP)
	$(BIN)/crisisbot sandbox --socket-mode

db-upgrade: $(STAMP)
	$(BIN)/crisisbot db upgrade

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m bench

screenshot: $(STAMP)
	CRISISBOT_SCREENSHOT=1 $(BIN)/python -m pytest -q tests/e2e/test_browser.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
