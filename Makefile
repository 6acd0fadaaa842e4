# Two commands set up everything on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test bench lint lock docs clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install the pinned dependencies and soundlake

demo: setup  ## sample exports for every platform through the whole lake (local folder + DuckDB)
	$(BIN)/soundlake demo

test: setup  ## the test suite (local and S3 backends, PostgreSQL instance, Chromium where needed)
	$(BIN)/python -m pytest

bench: setup  ## speed and memory against a baseline, run side by side
	$(BIN)/python -m benchmarks

lint: setup
	$(BIN)/ruff check .

docs: setup  ## regenerate docs/data-model.md from the schemas
	$(BIN)/python -m assets.docs

lock:  ## re-pin every package after changing pyproject.toml
	$(BIN)/pip freeze --exclude-editable | sed '1i # Every package, pinned: the set that installs together (pip freeze of make setup). Regenerate with `make lock`.' > requirements.lock

clean:
	rm -rf $(VENV) .soundlake
