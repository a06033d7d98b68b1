# Branch CRM — the two commands of the README, and a few more.
#   make run    set up and start everything on this machine (SQLite + file broker unless DATABASE_URL/REDIS_URL)
#   make test   ruff check, the layer contracts (import-linter) and the whole pytest suite, in parallel (pytest-xdist)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
# Every tool runs through the venv's python, never through a script's #! line: a venv linked from elsewhere (.ci/run)
# has scripts whose #! names the path it was installed through.
LINT_IMPORTS := $(BIN)/python -c 'import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())'
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
PYTEST_WORKERS ?= auto

.PHONY: run test test-upgrade test-full lint format messages bench outage screenshots venv worker beat clean

venv: $(STAMP)

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

var:
	mkdir -p var

# seed_demo --if-empty seeds a database without the demo and leaves a seeded one as it is (it refuses a database
# with data of its own). The worker and beat log warnings only, to var/worker.log and var/beat.log. Once the
# server accepts connections, the address, the demo logins and "ready" are printed, last.
SEED_ARGS ?=
run: export DEBUG ?= 1
run: $(STAMP) var
	$(BIN)/python manage.py migrate --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo --if-empty --no-logins $(SEED_ARGS)
	@! (exec 3<>/dev/tcp/$(HOST)/$(PORT)) 2>/dev/null || { echo "$(HOST):$(PORT) is already in use: stop what listens there or pass PORT=..." >&2; exit 1; }
	@trap 'kill $$(jobs -p) 2>/dev/null; wait' EXIT INT TERM; \
	$(BIN)/python -m celery -A crm_site worker --loglevel=WARNING --concurrency=2 >>var/worker.log 2>&1 & \
	$(BIN)/python -m celery -A crm_site beat --loglevel=WARNING --schedule=var/celerybeat-schedule >>var/beat.log 2>&1 & \
	{ until (exec 3<>/dev/tcp/$(HOST)/$(PORT)) 2>/dev/null; do sleep 0.5; done; \
	  echo ""; \
	  $(BIN)/python manage.py seed_demo --show-logins; \
	  echo ""; \
	  echo "  Branch CRM: http://$(HOST):$(PORT)/   (admin: http://$(HOST):$(PORT)/admin/)"; \
	  echo "  Worker and beat log to var/worker.log and var/beat.log. Stop with Ctrl-C."; \
	  echo "  就绪 / ready"; } & \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# pytest-xdist: one worker process per core (PYTEST_WORKERS=auto), each with its own test database (and its own
# Chromium and live server for the browser tests). PYTEST_WORKERS=0 runs everything in one process.
# Skip the process-level tests locally with PYTEST_ARGS='-m "not slow"'.
test: $(STAMP)
	$(BIN)/python -m ruff check .
	$(LINT_IMPORTS)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The upgrade tests: a database of an old release, with demo data, migrated forward to this code and back
# (tests/crm_site/test_forward_migration.py; PostgreSQL on DATABASE_URL). Minutes each: run before a release.
test-upgrade: $(STAMP)
	CRM_UPGRADE_TESTS=1 $(BIN)/python -m pytest -m upgrade $(PYTEST_ARGS)

# Everything: make test's suite and the tiers it leaves out (tests/conftest.py): the upgrade test, the demo's
# content, the fuzzers' further roles. Run before a release, and after a change to the demo or to the forms.
test-full: $(STAMP)
	CRM_FULL_TESTS=1 $(MAKE) --no-print-directory test

lint: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(LINT_IMPORTS)

format: $(STAMP)
	$(BIN)/python -m ruff check --fix .
	$(BIN)/python -m ruff format .

# Regenerates the translation catalogues (needs GNU gettext) and compiles them; the .mo files are committed.
messages: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py makemessages --locale=zh_Hans --locale=en --ignore='.venv/*' --ignore='var/*' --ignore='tests/*' --ignore='bench/*' --no-obsolete
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore='.venv/*'  # locale/ and the hand-kept locale_vendor/

# The benchmark (bench/, docs/performance.md) on PostgreSQL and Redis: DATABASE_URL and REDIS_URL of the
# environment, else crm_bench_<scale> on 127.0.0.1 and Redis database 5. BENCH_SCALE=small (10k customers, the CI
# smoke run) or large (1M). Seeds once, then reuses the data set. wrk (Debian package) drives the concurrent runs.
BENCH_SCALE ?= small
bench: $(STAMP) var
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk >/dev/null \
	  || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk >/dev/null; } \
	  || echo "wrk could not be installed: the concurrent runs are skipped"
	BENCH_SCALE=$(BENCH_SCALE) $(BIN)/python -m bench

# The outage rehearsal (bench/outage.py, docs/performance.md "Outage rehearsal"): the production stack on this
# machine with a Redis of its own (port 16400), loaded by signed-in staff, while Redis is stopped, restarted, hung
# and resumed. OUTAGE_USERS, OUTAGE_SECONDS, OUTAGE_PHASES, OUTAGE_TAG, ... (see the module's docstring).
outage: $(STAMP) var
	$(BIN)/python -m bench.outage

# The docs' screenshots (bench/demo_screenshots.py): every demo role's home page at 375 and 1280 px, into
# docs/screenshots/. Seeds a demo SQLite database of its own under var/ (again on another day), starts the
# development server on a free port and drives headless Chromium (SCREENSHOTS_PORT, CHROMIUM_PATH to choose).
screenshots: $(STAMP) var
	$(BIN)/python -m bench.demo_screenshots

clean:
	rm -rf var .pytest_cache .ruff_cache
