# Two entry points (see README): `make demo` and `make test`. Each builds .venv on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-stamp

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[dev,distributed,bench,server]'
	touch $(STAMP)

.PHONY: venv demo test lint bench
venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/openwfm demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2 -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(VENV)/bin/python $$f || exit 1; done
