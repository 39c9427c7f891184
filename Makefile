# Scellé — every target is listed by `make help`.
SHELL := /bin/bash
VENV  := .venv/bin
DATA  ?= scelle-data
HOST  ?= 127.0.0.1
PORT  ?= 8600

.DEFAULT_GOAL := help
.PHONY: help setup run test check lint typecheck imports test-quick test-embedded bench bench-crypto bench-transfer bench-browser bench-concurrent bench-listing bench-breach bench-oversight bench-scan bench-audit audit lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

setup: ## Install system packages, the virtualenv (hash-checked lock) and npm test packages
	@scripts/setup.sh

run: setup ## Set up and serve on the embedded default (SQLite + ./scelle-data)
	$(VENV)/scelle serve --data $(DATA) --host $(HOST) --port $(PORT)

test: setup check ## Set up, lint, type-check, check import rules, and run the whole test suite
	$(VENV)/python -m pytest -p no:cacheprovider --durations=25 --cov=scelle --cov-report=term:skip-covered

check: lint typecheck imports ## ruff (with the security rules), mypy --strict, import-linter

lint:
	$(VENV)/ruff check src tests bench
	$(VENV)/ruff format --check src tests bench

typecheck:
	$(VENV)/mypy

imports:
	$(VENV)/lint-imports --no-cache

test-quick: ## Unit tests only (no server processes, no interop)
	$(VENV)/python -m pytest -m "not integration and not interop and not slow" -q

test-embedded: ## The test suite on the embedded default only (no PostgreSQL, S3, Redis)
	$(VENV)/python -m pytest -p no:cacheprovider -m "not scale" -q

bench: bench-crypto bench-transfer bench-browser bench-audit bench-scan bench-concurrent bench-listing bench-breach bench-oversight ## Run every benchmark; each prints ratios

bench-crypto: setup ## age encryption/decryption vs the reference age tool
	$(VENV)/python bench/crypto.py

bench-transfer: setup ## send/receive vs nginx PUT/GET, peak RSS (SIZE_MIB=4096 for 4 GiB)
	$(VENV)/python bench/transfer.py --size-mib $(or $(SIZE_MIB),1024)

bench-browser: setup ## 1 GiB sent and received through the web UI in chromium vs age-encryption alone, page memory (SIZE_MIB=...)
	$(VENV)/python bench/browser.py --size-mib $(or $(SIZE_MIB),1024)

bench-concurrent: setup ## 100 concurrent 10 MiB transfers, 4 processes vs 1, PostgreSQL + S3 + Redis
	$(VENV)/python bench/scale.py concurrent

bench-listing: setup ## inbox/sent queries over 10^6 transfers vs 10^3 in PostgreSQL
	$(VENV)/python bench/scale.py listing

bench-breach: setup ## breach-assessment queries, 10^6 transfers + 10^7 audit events vs 1/100, PostgreSQL
	$(VENV)/python bench/scale.py breach

bench-oversight: setup ## the admins' oversight queries (retention counts, audit page) at 10^6 transfers and events vs 10^3, PostgreSQL
	$(VENV)/python bench/scale.py oversight

bench-scan: setup ## scelle scan vs grep -cE on a generated 1 GB CSV, with peak RSS
	$(VENV)/python bench/scan.py

bench-audit: setup ## audit log: appends vs plain rows, proofs at 10^4..10^7, verify vs hashlib
	$(VENV)/python bench/audit.py

audit: setup ## Check the locked dependencies for known vulnerabilities (needs the PyPI advisory service)
	$(VENV)/pip-audit --require-hashes --disable-pip -r requirements/dev.lock

lock: ## Re-pin the dependencies (requirements/*.lock) from pyproject.toml
	uv pip compile pyproject.toml --python 3.11 --generate-hashes --quiet -o requirements/runtime.lock
	uv pip compile pyproject.toml --python 3.11 --extra dev --generate-hashes --quiet -o requirements/dev.lock

clean: ## Remove the virtualenv and caches (not the data folder)
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache .hypothesis
