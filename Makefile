# Two entry points for a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test install install-dev lint typecheck unit evals browser-deps bench clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed pyproject.toml
	$(BIN)/python -m pip install -q -e ".[dev,llm]"
	touch $@

install: $(BIN)/.installed
install-dev: $(BIN)/.installed-dev

## make run: install, ingest the corpus if the index is missing or stale, start the web chat
run: install
	$(BIN)/evidence ingest
	$(BIN)/evidence serve

browser-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: install-dev
	$(BIN)/ruff check src tests evals bench

typecheck: install-dev
	$(BIN)/mypy

unit: install-dev browser-deps
	$(BIN)/python -m pytest -q

evals: install-dev
	$(BIN)/evidence ingest --quiet
	$(BIN)/evidence eval --gate

## make test: install, lint, type-check, all tests (fast, slow, browser), evals with the CI gate
test: lint typecheck unit evals

bench: install-dev
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) data
