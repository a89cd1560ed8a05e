# Two commands on a fresh machine: `make serve` and `make test`. Everything else follows from them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest -n: two cores, two workers; override with PYTEST_ARGS.
PYTEST_ARGS ?= -n 2
# apt-get needs root; anyone else goes through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Tools the OpenAPI document's tests run, outside .venv: Redocly CLI from the npm registry, and
# openapi-python-client in a venv of its own (it requires typer<0.28; Stockroom pins 0.29).
TOOLS := .tools
REDOCLY_VERSION := 2.77.0
# axe-core: the dashboard's browser test injects it into every page it opens.
AXE_CORE_VERSION := 4.14.1
OPENAPI_PYTHON_CLIENT_VERSION := 0.29.1

.PHONY: install serve test fmt lint typecheck check bench clean browser openapi-tools pgbouncer \
	mutate

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: install
	$(BIN)/stockroom serve --host $(HOST) --port $(PORT) --seed-demo

test: install browser openapi-tools pgbouncer
	$(BIN)/pytest $(PYTEST_ARGS)

# Debian's Chromium for the dashboard's browser test, driven by the playwright package of the
# dev extras (never `playwright install`: no browser is downloaded). Outside CI a failed
# install only warns, and that test skips; under CI=true it fails.
browser: install
	@test -x /usr/bin/chromium || $(SUDO) sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium' \
	  || { [ "$$CI" != true ] && echo "browser: Chromium is not installed; the browser test will skip"; }
	@$(BIN)/python -c 'import playwright' || { echo "browser: the playwright package is missing"; exit 1; }

# Outside CI a failed install only warns, and the tests that need the tool skip; under CI=true
# it fails. A stamp per version re-installs when a version changes.
openapi-tools:
	@test -f $(TOOLS)/redocly-$(REDOCLY_VERSION).stamp \
	  || { npm install --prefix $(TOOLS) --no-audit --no-fund --silent @redocly/cli@$(REDOCLY_VERSION) \
	       && touch $(TOOLS)/redocly-$(REDOCLY_VERSION).stamp; } \
	  || { [ "$$CI" != true ] && echo "openapi-tools: Redocly CLI is not installed; its lint test will skip"; }
	@test -f $(TOOLS)/axe-core-$(AXE_CORE_VERSION).stamp \
	  || { npm install --prefix $(TOOLS) --no-audit --no-fund --silent axe-core@$(AXE_CORE_VERSION) \
	       && touch $(TOOLS)/axe-core-$(AXE_CORE_VERSION).stamp; } \
	  || { [ "$$CI" != true ] && echo "openapi-tools: axe-core is not installed; the dashboard's browser test will skip"; }
	@test -f $(TOOLS)/openapi-python-client-$(OPENAPI_PYTHON_CLIENT_VERSION).stamp \
	  || { $(PYTHON) -m venv $(TOOLS)/venv \
	       && $(TOOLS)/venv/bin/python -m pip install --quiet --disable-pip-version-check \
	            openapi-python-client==$(OPENAPI_PYTHON_CLIENT_VERSION) \
	       && touch $(TOOLS)/openapi-python-client-$(OPENAPI_PYTHON_CLIENT_VERSION).stamp; } \
	  || { [ "$$CI" != true ] && echo "openapi-tools: openapi-python-client is not installed; the generated-client test will skip"; }

# Debian's PgBouncer: the concurrency and idempotency suites run once more through one the tests
# start themselves (transaction pooling). Outside CI a failed install only warns, and those
# runs skip; under CI=true it fails.
pgbouncer:
	@test -x /usr/sbin/pgbouncer || $(SUDO) sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y pgbouncer' \
	  || { [ "$$CI" != true ] && echo "pgbouncer: PgBouncer is not installed; the pgbouncer runs will skip"; }

fmt: install
	$(BIN)/ruff format src tests $(wildcard bench) $(wildcard tools)
	$(BIN)/ruff check --fix src tests $(wildcard bench) $(wildcard tools)

lint: install
	$(BIN)/ruff check src tests $(wildcard bench) $(wildcard tools)
	$(BIN)/ruff format --check src tests $(wildcard bench) $(wildcard tools)

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

# The API against the raw-SQL limit on PostgreSQL and SQLite, the events' cost to an adjustment
# (bench.events_cost) and 10,000 webhook deliveries (bench.webhooks), then stock through time
# and scale (as-of, backdated writes, verify at 1 M and 10 M movements); writes BENCHMARKS.md
# (~35 min). BENCH_SECONDS (20) sets each load phase; BENCH_POSTGRES_URL the server to use;
# BENCH_ONLY=events runs the events' two alone; BENCH_SCALE_MOVEMENTS (1000000,10000000) the
# counts of the scale part (empty skips it).
bench: install
	@command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	@command -v pgbench >/dev/null || { echo "bench: pgbench not found (it ships with PostgreSQL)"; exit 1; }
	@test -x $(BIN)/py-spy || $(BIN)/python -m pip install --quiet --disable-pip-version-check py-spy
	$(BIN)/python -m bench.run

# Mutation testing of src/stockroom/ledger/ against the ledger-related tests, SQLite only
# (tools/mutate.py; TESTING.md has the score and every survivor). Not part of `make test`:
# about an hour for all 439 mutants on this shared two-core machine. MUTATE_ARGS: --jobs N,
# --only writer.py, --pick writer.py#27, --exclude 'a -k expression', --list, --show N,
# --timeout S, --output FILE.
MUTATE_ARGS ?= --jobs 2
mutate: install
	$(BIN)/python -m tools.mutate $(MUTATE_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache stockroom.db stockroom.db-* .stockroom
