# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
DEV := APP_ENV=development
# The lock files pin every package with its hashes; requirements*.txt are what we edit.
LOCK := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links

.PHONY: run run-full serve worker test test-postgres test-browser lint typecheck security lock check-content mutate clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	@touch $@

$(VENV)/.installed-full: requirements-full.lock $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes -r requirements-full.lock
	@touch $@

$(VENV)/.installed-dev: requirements-dev.lock $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	@touch $@

## run: install, migrate the SQLite database, load demo data, serve on 127.0.0.1:$(PORT),
##   with the outbox's worker beside the server (it sends email; stopped when the server stops)
run: $(VENV)/.installed
	$(DEV) $(BIN)/flask --app app db upgrade
	$(DEV) $(BIN)/flask --app app seed-demo
	@$(DEV) $(BIN)/flask --app app worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	echo "flask worker started (pid $$worker); it stops with the server"; \
	$(DEV) $(BIN)/flask --app app run --host 127.0.0.1 --port $(PORT)

## run-full: as `run`, with the originality check's "similar meaning" model installed first
##   (requirements-full.lock: about 165 MB more; without it the check compares same words only)
run-full: $(VENV)/.installed-full
	$(MAKE) run

## serve: production-style: gunicorn (deploy/gunicorn.conf.py: BIND, WEB_CONCURRENCY...) with
##   the worker beside it, both stopped together. Needs SECRET_KEY and DATABASE_URL in the
##   environment; it never migrates: run `flask --app app db upgrade` first (docs/deploy.md)
serve: $(VENV)/.installed
	@test -n "$$SECRET_KEY" || { echo "make serve is for production: set SECRET_KEY (at least 32 \
	bytes: python3 -c 'import secrets; print(secrets.token_hex(32))') and DATABASE_URL. For \
	development use make run." >&2; exit 2; }
	@APP_ENV=production $(BIN)/flask --app app worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	echo "flask worker started (pid $$worker); it stops with the server"; \
	APP_ENV=production $(BIN)/gunicorn -c deploy/gunicorn.conf.py app:app

## worker: the outbox's worker on its own (`make run` starts one beside the server)
worker: $(VENV)/.installed
	$(DEV) $(BIN)/flask --app app worker

## test: install, lint, type-check, bandit, the whole suite (browser tests skip without Chromium)
test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/bandit -q -ll -r learning app.py
	$(BIN)/pytest

## test-postgres: the suite again against PostgreSQL (TEST_DATABASE_URL must be set)
test-postgres: $(VENV)/.installed-dev
	@test -n "$$TEST_DATABASE_URL" || (echo "Set TEST_DATABASE_URL=postgresql+psycopg://..."; exit 2)
	$(BIN)/pytest -m "not browser"

## mutate: mutation testing of the decision code (slow; not part of test or CI), then the score
##   per module. MODULE=learning.iqa.sampling runs one module; MUTATE_JOBS=2 runs two at a time.
MUTATE_JOBS ?= 1
mutate: $(VENV)/.installed-dev
	rm -rf mutants
	REFERENCE_ESSAYS=$(abspath ../shared/reference/essays) nice -n 10 $(BIN)/mutmut run \
		--max-children $(MUTATE_JOBS) $(if $(MODULE),"$(MODULE).*")
	$(BIN)/mutmut results --all true | $(BIN)/python bench/mutation_score.py --survivors

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

## typecheck: mypy over app.py and learning/ (views and forms aside; see pyproject.toml)
typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

## security: bandit over the app, medium severity and up; a finding fails. A false positive
## gets `# nosec BXXX` with the reason on the line above it.
security: $(VENV)/.installed-dev
	$(BIN)/bandit -q -ll -r learning app.py

## lock: after editing requirements*.txt, pin them with hashes into requirements*.lock
lock: $(VENV)/.installed-dev
	$(LOCK) --output-file requirements.lock requirements.txt
	$(LOCK) --output-file requirements-full.lock requirements-full.txt
	$(LOCK) --output-file requirements-dev.lock requirements-dev.txt

check-content: $(VENV)/.installed
	$(DEV) $(BIN)/flask --app app content check --strict

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache mutants
