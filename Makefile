# twinlake — one data lake, two engines. `make demo` runs the pipeline end to end; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3## the Python (3.11+) that creates the venv
VENV   ?= .venv## where the venv lives
ROWS   ?= 1000000## data rows per generated file (demo, generate, drop); a small demo: ROWS=100000
DATA   ?= data/generated## folder of the generated CSVs and truth.json (demo, generate, upload, drop)
DASHBOARD_PORT ?= 8501## the dashboard's port (make dashboard)
BENCH_ROWS ?= 10000,100000,1000000## rows per file of each benchmark drop (make bench, bench-k8s)
BENCH_REPEATS ?= 3## drops per scale (make bench, bench-k8s)
BENCH_ARGS ?=## more options of `python -m jobs.benchmark` (make bench, bench-k8s)
KEEP ?= 20## runs kept per engine by retention (make gc)
FAULT_CASE_SECONDS ?= 240## the bound of each fault case (make test-faults)
PY       := $(VENV)/bin/python
TWINLAKE := $(VENV)/bin/twinlake
PIP      := $(VENV)/bin/pip --disable-pip-version-check

.PHONY: help venv stack-up stack-down stack-status generate upload demo dashboard screenshots bench bench-k8s test test-unit test-faults gc lint \
	lock up down drop control-plane-build control-plane-up control-plane-down

help: ## list the targets and the variables
	@echo "targets:"
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'
	@echo "variables (e.g. make demo ROWS=100000):"
	@grep -E '^[A-Z_]+ *\?=.*## ' $(MAKEFILE_LIST) | sed -E 's/^([A-Z_]+) *\?= *([^#]*)## (.*)$$/\1=\2|\3/' \
		| awk -F'|' '{printf "  %-36s %s\n", $$1, $$2}'
	@echo "environment of the local stack (e.g. TWINLAKE_S3_PORT=17070 make demo):"
	@printf '  %-36s %s\n' \
		TWINLAKE_KAFKA_PORT=9092 "Kafka's port for clients" \
		TWINLAKE_KAFKA_CONTROLLER_PORT=9093 "Kafka's KRaft controller port" \
		TWINLAKE_S3_PORT=7070 "the S3 store's port" \
		TWINLAKE_STATE_DIR "the stack's data, logs, PID files and env file (~/.local/state/twinlake)"

$(PY): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -qq -e '.[dev,spark,dashboard,bench,kube]'
	@touch $(PY)

venv: $(PY) ## create .venv with the project (and the `twinlake` command) and its pinned dev dependencies

stack-up: $(PY) ## start Kafka and the S3 store on 127.0.0.1 (every port and prerequisite checked first)
	$(TWINLAKE) stack up

stack-down: $(PY) ## stop the local stack (data is kept)
	$(TWINLAKE) stack down

stack-status: $(PY) ## show what runs, where, and whether it answers
	$(TWINLAKE) stack status

generate: $(PY) ## generate the three CSVs (ROWS rows each) and truth.json into DATA
	$(TWINLAKE) generate --rows $(ROWS) --out $(DATA)

upload: $(PY) ## upload DATA into the landing bucket
	$(TWINLAKE) upload $(DATA)

demo: $(PY) ## check the options, stack up, generate ROWS rows, upload, run both engines, print the summary and verdict
	$(TWINLAKE) demo --rows $(ROWS) --out $(DATA)

dashboard: $(PY) stack-up ## serve the dashboard on the local stack's lake: http://127.0.0.1:8501 (DASHBOARD_PORT=...; Ctrl-C stops it)
	$(PY) -m dashboard --port $(DASHBOARD_PORT)

screenshots: $(PY) stack-up ## screenshot every dashboard page (the local stack's lake) into docs/screenshots/ (Debian chromium)
	$(PY) scripts/screenshots.py --out docs/screenshots

bench: $(PY) stack-up ## benchmark both engines end to end on the local stack (BENCH_ROWS, BENCH_REPEATS, BENCH_ARGS)
	$(PY) -m jobs.benchmark --start-engines --rows $(BENCH_ROWS) --repeats $(BENCH_REPEATS) $(BENCH_ARGS)

lint: $(PY) ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

lock: $(PY) ## recompile docker/requirements.lock (the images' dependencies, with hashes) from pyproject.toml
	$(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --build-deps-for wheel --strip-extras --extra dashboard --extra bench \
		--no-emit-index-url --no-emit-find-links --output-file docker/requirements.lock pyproject.toml

test-unit: $(PY) ## fast tests: no services, no Spark, no helm, no control plane, no faults
	$(VENV)/bin/pytest -m "not integration and not spark and not chart and not cluster and not faults" -q

test-faults: $(PY) stack-up ## the fault suite (tests/faults) on the local stack; FAULT_CASE_SECONDS=300 on a busy machine
	$(VENV)/bin/pytest -m faults -q --durations=0 --fault-case-seconds=$(FAULT_CASE_SECONDS) tests/faults

test: $(PY) stack-up ## every test: lint, unit and integration (starts the stack)
	$(MAKE) lint
	$(VENV)/bin/pytest -q --durations=15 --fault-case-seconds=$(FAULT_CASE_SECONDS)

gc: $(PY) ## retention: orphan run folders and runs beyond KEEP per engine (dry run; `make gc APPLY=1` deletes)
	$(PY) -m jobs.retention --keep $(KEEP) $(if $(APPLY),--apply,)

up: ## kind cluster "twinlake": build and load the images, install spark-operator 2.5.2 and the chart (needs docker, kind, kubectl, helm)
	scripts/cluster.sh up

down: ## delete the kind cluster "twinlake" and everything in it
	scripts/cluster.sh down

control-plane-build: $(PY) ## build the pinned etcd, Kubernetes, kwok and spark-operator from source (first use: minutes)
	$(PY) scripts/control_plane.py build --spark-operator

control-plane-up: $(PY) ## start a Kubernetes control plane with a fake node on 127.0.0.1 (no containers); prints KUBECONFIG
	$(PY) scripts/control_plane.py up

control-plane-down: $(PY) ## stop the control plane started by control-plane-up
	$(PY) scripts/control_plane.py down

bench-k8s: $(PY) ## run the benchmark as a Job on the kind cluster, follow it, copy its results to data/
	$(PY) -m jobs.benchmark.k8s -- --rows $(BENCH_ROWS) --repeats $(BENCH_REPEATS) $(BENCH_ARGS)

drop: $(PY) ## generate ROWS rows per file into DATA and upload them to the cluster's store (127.0.0.1:9000)
	ROWS=$(ROWS) DATA=$(DATA) PY=$(PY) scripts/cluster.sh drop
