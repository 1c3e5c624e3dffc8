# Spreekuur developer tasks. `make` lists them.
# `python3` is 3.13 here through pyenv and .python-version.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run test lint format migrations-check compose-check clean bench loadtest

help: ## List the tasks
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Debian packages, installed when missing (this needs root, as on the project's
# machines and in CI): a compiler and libpq headers to build psycopg2, gettext to
# compile the translations, and chromium for the browser tests.
define ensure_debian_packages
	@missing=""; for pair in $(1); do \
		command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing Debian packages:$$missing"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
		else \
			echo "Please install these Debian packages first:$$missing" >&2; exit 1; \
		fi; \
	fi
endef

$(BIN)/python:
	$(call ensure_debian_packages,gcc:gcc pg_config:libpq-dev msgfmt:gettext)
	$(PYTHON) -m venv $(VENV)

# The stamps make `pip install` and `npm ci` run again only when their input changes.
$(VENV)/.requirements.stamp: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -r requirements-dev.txt
	touch $@

node_modules/.package-lock.stamp: package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.requirements.stamp node_modules/.package-lock.stamp ## Set up .venv and node_modules, compile translations
	@if [ -n "$(wildcard locale */locale)" ]; then \
		$(MANAGE) compilemessages --ignore=$(VENV) --ignore=node_modules; \
	else \
		echo "No locale/ directory yet: skipping compilemessages."; \
	fi

run: export DJANGO_DEBUG := 1
run: install ## Set up, migrate, load demo data and serve on http://127.0.0.1:8000
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	$(MANAGE) demo_login
	@mkdir -p var
	@# web, worker and beat together; -e /dev/null: .env belongs to docker compose.
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -e /dev/null -f Procfile.dev start

# The tests run where production runs: PostgreSQL (and Redis where a feature needs
# it). Set DATABASE_URL=sqlite:///var/test.sqlite3 to try without a server; the
# tests that need PostgreSQL then say so and skip, unless SPREEKUUR_REQUIRE_SERVICES=1.
test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/spreekuur
test: export REDIS_URL ?= redis://127.0.0.1:6379/0
test: export SPREEKUUR_REQUIRE_SERVICES ?= $(if $(findstring sqlite,$(DATABASE_URL)),0,1)
test: install ## Run the test suite on PostgreSQL (pass options in PYTEST_ARGS="...")
	@# redis-server: the fault tests crash and restart a Redis of their own.
	$(call ensure_debian_packages,chromium:chromium redis-server:redis-server)
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install ## Benchmarks on loopback (gunicorn, PostgreSQL, Redis db 7, Celery); writes docs/performance.md
	$(BIN)/python -m bench

loadtest: install ## 200 simulated clients for 60 s on loopback (Redis db 8, rate limits raised), then checks; appends to docs/performance.md
	$(BIN)/python -m bench.loadtest

lint: $(VENV)/.requirements.stamp ## Check code style with ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.requirements.stamp ## Fix code style with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: $(VENV)/.requirements.stamp ## Fail when models have changes without a migration
	$(MANAGE) makemigrations --check --dry-run

# `docker compose config` with the variables of .env.example and db.env.example, in a scratch copy so
# no .env appears here. Docker's compose plugin when there is one, else Debian's
# docker-compose (installed when missing, as root).
compose-check: ## Check docker-compose.yml with the settings of .env.example
	@if ! docker compose version >/dev/null 2>&1; then \
		$(subst @,,$(call ensure_debian_packages,docker-compose:docker-compose)); \
	fi
	@scratch=$$(mktemp -d) && cp docker-compose.yml "$$scratch/" && cp .env.example "$$scratch/.env" && \
	cp db.env.example "$$scratch/db.env" && \
	if docker compose version >/dev/null 2>&1; then compose="docker compose"; else compose=docker-compose; fi && \
	echo "$$compose config" && (cd "$$scratch" && $$compose config --quiet); \
	status=$$?; rm -rf "$$scratch"; exit $$status

clean: ## Remove caches and build output (keeps .venv, node_modules and var/)
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o \
		\( -name __pycache__ -o -name '*.mo' \) -prune -exec rm -rf {} +
	rm -rf staticfiles .pytest_cache .ruff_cache test-artifacts
