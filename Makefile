# twinlake — one data lake, two engines. `make demo` runs the pipeline end to end; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ROWS   ?= 1000000
DATA   ?= data/generated

.PHONY: help venv stack-up stack-down stack-status generate upload demo test test-unit lint up down drop

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(PY): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev,spark]'
	@touch $(PY)

venv: $(PY) ## create .venv with the project and its pinned dev dependencies

stack-up: $(PY) ## start Kafka (KRaft) and the S3 store (versitygw) on 127.0.0.1, installing them on first use
	$(PY) scripts/stack.py up

stack-down: $(PY) ## stop the local stack (data is kept)
	$(PY) scripts/stack.py down

stack-status: $(PY) ## show what runs, where, and whether it answers
	$(PY) scripts/stack.py status

generate: $(PY) ## generate the three CSVs (ROWS rows each) and truth.json into DATA
	$(PY) -m producers.generate --rows $(ROWS) --out $(DATA)

upload: $(PY) ## upload DATA into the landing bucket
	$(PY) -m producers.upload $(DATA)

demo: $(PY) stack-up ## stack up, generate, upload, run the engines, print the summary
	$(PY) scripts/demo.py --rows $(ROWS) --out $(DATA)

lint: $(PY) ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test-unit: $(PY) ## fast tests: no services, no Spark, no helm
	$(VENV)/bin/pytest -m "not integration and not spark and not chart" -q

test: $(PY) stack-up ## every test: lint, unit and integration (starts the stack)
	$(MAKE) lint
	$(VENV)/bin/pytest -q --durations=15

up: ## kind cluster "twinlake": build and load the images, install spark-operator 2.5.2 and the chart (needs docker, kind, kubectl, helm)
	scripts/cluster.sh up

down: ## delete the kind cluster "twinlake" and everything in it
	scripts/cluster.sh down

drop: $(PY) ## generate ROWS rows per file into DATA and upload them to the cluster's store (127.0.0.1:9000)
	ROWS=$(ROWS) DATA=$(DATA) PY=$(PY) scripts/cluster.sh drop
