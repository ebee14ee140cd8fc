# `make run` and `make test` do all set-up on a fresh machine (Python 3.11, pip, venv, a C compiler).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUGSINK_VENV := .venv-bugsink
BUGSINK_VERSION := 2.6.2
BENCH_VENV := .venv-bench

# The tool installed as a user installs it, but editable: setup.py compiles the hot path in
# place (mypyc and core/peek.c, about 40 s), or installs the pure build where no C compiler works.
$(VENV)/.stamp: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

# Bugsink pins Django and sentry-sdk: it gets a virtualenv of its own.
$(BUGSINK_VENV)/.stamp:
	$(PYTHON) -m venv $(BUGSINK_VENV)
	$(BUGSINK_VENV)/bin/python -m pip install -q --upgrade pip
	$(BUGSINK_VENV)/bin/python -m pip install -q "bugsink==$(BUGSINK_VERSION)"
	touch $@

# The in-place build again whenever a source of core changes (the same setup.py as an install);
# core serves the compiled modules only while they match every source (core/native.py).
NATIVE := core/_build.json
$(NATIVE): $(wildcard core/*.py core/*/*.py core/*.c) setup.py | $(VENV)/.stamp
	@echo "compiling the hot path with mypyc (about 40 s) ..."
	@$(PY) setup.py -q build_ext --inplace > $(VENV)/native-build.log 2>&1 \
		|| { tail -n 30 $(VENV)/native-build.log; echo "the build failed: see $(VENV)/native-build.log"; exit 1; }
	@grep "rudder-sentry build:" $(VENV)/native-build.log || true

native: $(NATIVE)

run: $(NATIVE)
	$(PY) -m cli replay samples/dumps --config samples/configs/destination.json --dry-run

# The whole suite on the compiled build, then the engine, reader, shards and delivery again
# on the Python sources (RUDDER_SENTRY_PURE=1), which an install without a C compiler runs.
PURE_TESTS := tests/test_engine.py tests/test_reader.py tests/test_shard.py \
	tests/test_delivery.py tests/test_pipeline.py tests/test_sender.py tests/test_breadcrumbs.py \
	tests/test_consent.py tests/test_native.py tests/test_sessions.py tests/test_pageloads.py

test: $(NATIVE) $(BUGSINK_VENV)/.stamp
	BUGSINK_VENV="$(abspath $(BUGSINK_VENV))" $(PY) -m pytest -q
	RUDDER_SENTRY_PURE=1 $(PY) -m pytest -q $(PURE_TESTS)

lint: $(VENV)/.stamp
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: $(VENV)/.stamp
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# The sdist and the wheel, as `python -m build` makes them (the wheel compiled for this machine).
dist: $(VENV)/.stamp
	$(PY) -m build --outdir dist .

# The benchmark measures what users install: `pip install .` into a virtualenv of its own.
bench: $(NATIVE)
	rm -rf $(BENCH_VENV)
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install -q .
	BENCH_PYTHON="$(abspath $(BENCH_VENV))/bin/python" $(PY) -m tests.bench.bench

clean:
	rm -rf $(VENV) $(BUGSINK_VENV) $(BENCH_VENV) build dist .rudder-sentry .pytest_cache .mypy_cache .ruff_cache
	find core -name '*.so' -delete
	rm -f $(NATIVE)

.PHONY: run test lint format bench clean native dist
