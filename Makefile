# Two commands set everything up on a machine with only python3, pip and make:
#   make demo   build .venv and copy a multi-GiB object through the built-in emulator
#   make test   build .venv and run lint, type checks and the test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint fmt typecheck bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,dask,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/partcopy demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools

fmt: $(STAMP)
	$(BIN)/ruff format src tests benchmarks tools
	$(BIN)/ruff check --fix src tests benchmarks tools

typecheck: $(STAMP)
	$(BIN)/mypy

# Most tests wait on loopback I/O: two worker processes (one per CI core) overlap them.
# A file's tests stay in one worker, so module and session fixtures start once per worker.
TEST_WORKERS ?= 2

test: lint typecheck
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run all

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
