# newsflow — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
export UV_PYTHON ?= 3.11

DATA ?= ../shared/eval

.PHONY: help uv sync demo test test-unit test-integration test-e2e test-faults lint format clean \
	eval eval-dedup eval-language calibrate-language eval-entity bench bench-dedup bench-cluster docs \
	train-ner train-ner-all cluster-up cluster-down bench-subscriber \
	bench-web browser

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

uv: ## install uv if it is missing
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv>=0.5"

sync: uv ## create .venv with every package and the dev tools, from uv.lock
	$(UV) sync --frozen --all-packages

demo: sync ## run the pipeline on a private Redis with sample articles (CLUSTER=1: on a local cluster; WEB=1: with the live page)
	$(UV) run --frozen newsflow demo $(if $(CLUSTER),--cluster) $(if $(WEB),--web)

browser: ## install Debian's chromium and chromium-driver (the live page's browser test; root)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		apt-get install -y --no-install-recommends chromium chromium-driver || \
		(apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver)

test: sync ## unit, integration (real Redis) and end-to-end tests
	$(UV) run --frozen pytest -ra $(PYTEST_ARGS)

test-unit: sync ## pure unit tests only
	$(UV) run --frozen pytest -ra tests/unit $(PYTEST_ARGS)

test-integration: sync ## integration tests against a real Redis
	$(UV) run --frozen pytest -ra tests/integration $(PYTEST_ARGS)

test-e2e: sync ## end-to-end tests with the services as processes
	$(UV) run --frozen pytest -ra tests/e2e $(PYTEST_ARGS)

test-faults: sync ## fault tests: kill -9, Redis restart and flush (also part of `make test`)
	$(UV) run --frozen pytest -ra -s -m faults tests/e2e $(PYTEST_ARGS)

cluster-up: sync ## start a local 6-node Redis Cluster on ports 7000-7005 (data in .cluster/)
	$(UV) run --frozen newsflow cluster up --dir .cluster --base-port 7000

cluster-down: sync ## stop the local Redis Cluster and remove .cluster/
	$(UV) run --frozen newsflow cluster down --dir .cluster

eval: eval-dedup eval-language eval-entity ## all quality evaluations (DATA=path to the evaluation data)

eval-dedup: sync ## near-duplicate precision/recall by edit recipe on real news (DATA=...)
	$(UV) run --frozen python -m newsflow.dedup.evaluate --data $(DATA)

eval-language: sync ## language ID accuracy by language and kind, beside bare fastText (DATA=...)
	$(UV) run --frozen python -m newsflow.language.evaluate --data $(DATA)

calibrate-language: sync ## fit the language confidence's calibration on the dev data (DATA=...)
	$(UV) run --frozen python -m newsflow.language.calibrate --data $(DATA)

eval-entity: sync ## NER span P/R/F1 per type on the gold sets, bare pipeline beside newsflow (DATA=...)
	$(UV) run --frozen python -m newsflow.entity.evaluate --data $(DATA)

NER_LANGS ?= sv da de nl pt zh xx
TRAIN_DATA ?= ../shared
# LANG is also the locale's variable: only a LANG given on make's command line names a pipeline.
NER_LANG = $(if $(filter command line,$(origin LANG)),$(LANG),)

train-ner: sync ## train one own NER pipeline into its package (LANG=sv|da|de|nl|pt|zh|xx DATA=../shared)
	@test -n "$(NER_LANG)" || (echo "usage: make train-ner LANG=sv DATA=../shared" && false)
	$(UV) run --frozen --group train python -m newsflow.entity.training.train --lang $(NER_LANG) \
		--data $(if $(filter command line,$(origin DATA)),$(DATA),$(TRAIN_DATA))

train-ner-all: sync ## train every own NER pipeline, one process per core (DATA=../shared)
	printf '%s\n' $(NER_LANGS) | xargs -P $$(nproc) -I{} $(MAKE) --no-print-directory train-ner LANG={}

bench: sync ## bare libraries, each running stage, no-op stage, pipeline, latency, RSS (DATA=...)
	$(UV) run --frozen python -m newsflow.cli.bench --data $(DATA) $(BENCH_ARGS)

bench-dedup: sync ## dedup stage rate beside bare rensa, Redis bytes per article (DATA=...)
	$(UV) run --frozen python -m newsflow.dedup.bench --data $(DATA)

bench-subscriber: sync ## newsflow.client.Subscriber beside a raw redis-py XREADGROUP consumer
	$(UV) run --frozen python -m newsflow.cli.bench_subscriber $(BENCH_ARGS)

bench-web: sync ## the live page: tick cost, page load and update latency in headless Chromium
	$(UV) run --frozen python -m newsflow.cli.bench_web $(BENCH_ARGS)

bench-cluster: sync ## one Redis beside a local 3+3 Redis Cluster at N = 1/3/6 partitions (DATA=...)
	$(UV) run --frozen python -m newsflow.cli.bench_cluster --data $(DATA) $(BENCH_ARGS)

docs: sync ## regenerate the AsyncAPI document of the streams (shared/asyncapi.json)
	$(UV) run --frozen python -m newsflow.cli.asyncapi --out shared/asyncapi.json

docs-check: sync ## the README and docs/ name only make targets, settings and CLI commands that exist
	$(UV) run --frozen pytest -q tests/unit/test_docs.py

lint: sync ## ruff and mypy (strict on services/ and shared/)
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy shared/src services/dedup/src services/language/src services/entity/src services/cli/src

format: sync ## apply ruff's formatting and autofixes
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

clean: ## remove the virtual environment and caches
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache
