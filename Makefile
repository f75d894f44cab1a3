.PHONY: run test setup lint format bench

run:  ## set up and run Xueji on SQLite with demo data at http://127.0.0.1:8000/
	@scripts/run.sh

test:  ## set up, then ruff and every test on SQLite and PostgreSQL, browser tests in Chromium
	@scripts/test.sh

setup:
	@scripts/setup.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .

bench:  ## print the performance figures recorded in docs/benchmarks.md
	.venv/bin/python bench/list_search.py && .venv/bin/python bench/api_me.py && .venv/bin/python bench/audit_verify.py && .venv/bin/python bench/changes_batch.py
