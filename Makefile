# SalesLens: `make run` starts the local stack with a demo tenant; `make test` sets up and runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint package bench clean system-deps run-deps web

$(STAMP): requirements.txt requirements-dev.txt jobs/requirements.txt jobs/requirements-nodeps.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<26.3"  # chalice 1.34 needs pip<26.3
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -r jobs/requirements-nodeps.txt
	touch $(STAMP)

## Debian packages: chromium for the browser tests (Playwright cannot download browsers here), Pango and fonts for
## WeasyPrint (report PDFs), poppler-utils (pdftoppm) for the tests that look at PDF pages.
RUN_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
TEST_PACKAGES := $(RUN_PACKAGES) chromium poppler-utils
system-deps: DEBIAN_PACKAGES = $(TEST_PACKAGES)
run-deps: DEBIAN_PACKAGES = $(RUN_PACKAGES)
system-deps run-deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Install Debian's $$missing (sudo apt-get install $$missing)"; exit 1; fi; \
	fi

## The portal's browser libraries, pinned in package-lock.json: ECharts and Papa Parse are copied to web/vendor/
## (served with the pages, never from a CDN); axe-core stays in node_modules/ for the browser tests.
NODE_STAMP := node_modules/.package-lock.json
WEB_VENDOR := web/vendor/echarts.esm.min.js web/vendor/papaparse.min.js

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the portal's chart library"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

web/vendor/echarts.esm.min.js: $(NODE_STAMP)
	mkdir -p web/vendor
	cp node_modules/echarts/dist/echarts.esm.min.js $@

web/vendor/papaparse.min.js: $(NODE_STAMP)
	mkdir -p web/vendor
	cp node_modules/papaparse/papaparse.min.js $@

web: $(WEB_VENDOR)

run: $(STAMP) run-deps web
	$(PY) -m infra.local.stack

test: $(STAMP) system-deps web
	$(PY) -m ruff check .
	$(PY) -m pytest

test-fast: $(STAMP) web
	$(PY) -m pytest tests/unit tests/integration

lint: $(STAMP)
	$(PY) -m ruff check .

## The CloudFormation/SAM template for AWS: chalice's resources merged with infra/resources.json.
package: $(STAMP)
	$(VENV)/bin/chalice package --stage prod --merge-template infra/resources.json build/package

bench: $(STAMP)
	$(PY) -m pip install --quiet --no-deps -r bench/requirements.txt
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/*.py; do $(PY) $$b; done || echo "no benchmarks yet"

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache node_modules web/vendor
