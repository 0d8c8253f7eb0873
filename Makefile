PYTHON ?= $(if $(shell command -v python3.11 2>/dev/null),python3.11,python3)
VENV = .venv
MANAGE = $(VENV)/bin/python manage.py

.PHONY: install run test lint typecheck format clean bench mutate

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: export DJANGO_SETTINGS_MODULE = config.settings.local
run: export CELERY_TASK_ALWAYS_EAGER = 1
run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) load_demo
	$(MANAGE) ensure_demo_admin
	$(MANAGE) runserver 127.0.0.1:8000

test: export DJANGO_SETTINGS_MODULE = config.settings.test
test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Benchmarks on PostgreSQL (dedicated counterfoil_bench* databases): see bench/README.md. Each script writes
# its own section of bench/RESULTS.md; INVOICES=100000 for a quicker, smaller run.
bench: install
	$(VENV)/bin/python -m bench.seed_invoices --invoices $(or $(INVOICES),1000000)
	@# Every benchmark runs even when one misses its bar; make bench fails at the end if any did.
	failed=0; \
	for step in "api2_list" "admin_grid" "http_bench" "email_bench" \
	            "memory_bench web --requests 25000 --sample-every 2500 --budget 1200" \
	            "memory_bench celery --budget 900"; do \
	    $(VENV)/bin/python -m bench.$$step || { echo "MISSED or failed: bench.$$step"; failed=1; }; \
	done; \
	exit $$failed

# Mutation testing of the money core and sales/documents.py (mutmut 3, configured in pyproject's [tool.mutmut]) on
# SQLite, two workers: MUTANTS='sales.money* sales.order_state*' narrows it to some modules. Results stay in
# mutants/, so a plain re-run tests only mutants not tested yet. Then the per-module score; equivalent mutants:
# tests/mutation/equivalent.md. registration.rows_update has a PostgreSQL-only branch whose mutants survive on
# SQLite: MUTATE_DATABASE_URL=postgres://... runs them again there, one at a time (the workers would share one test
# database), so `make mutate MUTATE_DATABASE_URL=...` is the whole proof in one command.
mutate: export DJANGO_SETTINGS_MODULE = config.settings.test
mutate: install
	env -u DATABASE_URL -u REDIS_URL -u PYTHONPATH $(VENV)/bin/mutmut run --max-children $(or $(JOBS),2) $(MUTANTS)
	$(if $(MUTATE_DATABASE_URL),env -u REDIS_URL -u PYTHONPATH DATABASE_URL=$(MUTATE_DATABASE_URL) \
	    $(VENV)/bin/mutmut run --max-children 1 'sales.registration.x_rows_update*')
	$(VENV)/bin/python tests/mutation/score.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory typecheck

# mypy with django-stubs and DRF's stubs over the apps and config ([tool.mypy] in pyproject); any error fails.
typecheck: install
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf .pytest_cache .ruff_cache .mypy_cache .hypothesis staticfiles *.egg-info mutants
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
