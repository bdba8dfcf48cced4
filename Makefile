# Two entry points (see README): `make demo` and `make test`. Each builds .venv on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-stamp

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[dev,distributed,bench,server]'
	touch $(STAMP)

# The web pages' browser assets (htmx and its server-sent events extension; axe-core for the
# browser tests) from the npm registry, pinned by package-lock.json; htmx and the extension are
# copied into the package (gitignored build output that the wheel carries as package data). plotly.js comes from the plotly Python package.
WEB_VENDOR := src/openwfm/web/static/vendor
WEB_ASSETS := $(WEB_VENDOR)/htmx.min.js $(WEB_VENDOR)/htmx-ext-sse.min.js

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(WEB_ASSETS): node_modules/.package-lock.json
	mkdir -p $(WEB_VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(WEB_VENDOR)/htmx.min.js
	cp node_modules/htmx-ext-sse/dist/sse.min.js $(WEB_VENDOR)/htmx-ext-sse.min.js

.PHONY: venv demo test lint bench web-assets chromium serve
venv: $(STAMP)

web-assets: $(WEB_ASSETS)

# Debian's chromium for the browser tests (tests/test_web_*.py), installed when missing
# (as root; elsewhere install the package `chromium` yourself).
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

serve: $(STAMP) web-assets
	$(VENV)/bin/openwfm serve --demo

demo: $(STAMP)
	$(VENV)/bin/openwfm demo

test: $(STAMP) web-assets chromium
	$(VENV)/bin/python -m pytest -n 2 --dist loadgroup -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(VENV)/bin/python $$f || exit 1; done
