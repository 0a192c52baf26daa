# realtime_nb — every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit notebooks lab bench clean e2e

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/realtime-nb demo

test: lint typecheck unit notebooks

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check realtime_nb tests $(wildcard benchmarks)
	$(BIN)/ruff format --check realtime_nb tests $(wildcard benchmarks)

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests
	REALTIME_NB_DATA_DIR=$$(mktemp -d) $(BIN)/pytest -q -p no:cacheprovider --doctest-modules realtime_nb

notebooks: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider --nbval-lax notebooks -o filterwarnings= --timeout=600

bench: $(STAMP)
	$(BIN)/realtime-nb bench --size full --json artifacts/bench.json --png docs/img/bench-full.png

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

# Browser tests (tests/e2e): JupyterLab in headless Chromium, driven by Playwright's Python API.
# Debian's chromium (Playwright cannot download a browser here), apt-installed when running as
# root and missing; playwright goes into .venv. Screenshots and logs land in artifacts/e2e/.
e2e: $(STAMP)
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
		echo "make e2e: /usr/bin/chromium is missing; as root: apt-get install -y chromium" >&2; \
		exit 1; \
	fi
	$(BIN)/python -m pip install --quiet 'playwright>=1.45,<2'
	REALTIME_NB_E2E=1 $(BIN)/pytest -v -p no:cacheprovider tests/e2e

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
