# `make run` and `make test` do all set-up on a fresh machine (Python 3.11, pip, venv).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUGSINK_VENV := .venv-bugsink
BUGSINK_VERSION := 2.6.2

$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

# Bugsink pins Django and sentry-sdk: it gets a virtualenv of its own (SPEC §1).
$(BUGSINK_VENV)/.stamp:
	$(PYTHON) -m venv $(BUGSINK_VENV)
	$(BUGSINK_VENV)/bin/python -m pip install -q --upgrade pip
	$(BUGSINK_VENV)/bin/python -m pip install -q "bugsink==$(BUGSINK_VERSION)"
	touch $@

# The hot path compiled with mypyc (core/native.py), rebuilt whenever a source of core changes;
# core serves it only while it matches every source, so a stale build is never run.
NATIVE := core/_native/manifest.json
$(NATIVE): $(VENV)/.stamp $(wildcard core/*.py core/*/*.py core/*.c)
	@echo "compiling the hot path with mypyc (about 30 s) ..."
	@$(PY) -m core.native_build > $(VENV)/native-build.log 2>&1 \
		|| { tail -n 30 $(VENV)/native-build.log; echo "mypyc build failed: see $(VENV)/native-build.log"; exit 1; }

native: $(NATIVE)

run: $(NATIVE)
	$(PY) -m cli replay samples/dumps --config samples/configs/destination.json --dry-run

test: $(NATIVE) $(BUGSINK_VENV)/.stamp
	BUGSINK_VENV="$(abspath $(BUGSINK_VENV))" $(PY) -m pytest -q

lint: $(VENV)/.stamp
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: $(VENV)/.stamp
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(NATIVE)
	$(PY) -m tests.bench.bench

clean:
	rm -rf $(VENV) $(BUGSINK_VENV) core/_native .rudder-sentry .pytest_cache .mypy_cache .ruff_cache

.PHONY: run test lint format bench clean native
