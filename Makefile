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

# The install talks: a stage line before each step and pip's own lines (what it collects,
# a progress bar per download), not a silent minute or two.
PIP := $(BIN)/python -m pip install --progress-bar on --disable-pip-version-check
stage = @printf '\n==> [%s] %s\n' "$$(date +%H:%M:%S)" "$(1)"

$(BIN)/.installed: pyproject.toml
	$(call stage,1/3 virtual environment in $(VENV))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(call stage,2/3 pip itself)
	$(PIP) --upgrade pip
	$(call stage,3/3 Evidence Finder and its libraries: torch (CPU) and chromadb are the big ones; about 2-3 minutes from a warm pip cache)
	$(PIP) -e .
	touch $@
	$(call stage,installed)

$(BIN)/.installed-dev: $(BIN)/.installed pyproject.toml
	$(call stage,development tools: pytest ruff mypy playwright llama-index)
	$(PIP) -e ".[dev,llm]"
	touch $@

install: $(BIN)/.installed
install-dev: $(BIN)/.installed-dev

## make run: install, then start the web chat at once; on the first run it answers from
## BM25 while the dense index is built in the background (it says how far it is)
run: install
	$(call stage,starting the web chat: documents are read and BM25 is built in seconds; the first run then embeds ~1650 passages in the background (about 1.5 minutes on a quiet 2-core machine and longer on a busy one) while the chat already answers)
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
