"""The benchmark template of the chart (a suspended CronJob) and the Job `make bench-k8s` makes from it.

The CronJob never fires on its own; a Job made from it runs the real `python -m jobs.benchmark` with flags its CLI
has, as the benchmark store role, reaching the store through the NetworkPolicy's label, never retried, bounded in
time, cleaned up after a day, with resources for 3 x 1M rows per file. `job_from_cronjob` (the launcher's pure part)
turns the rendered template into a Job that validates strictly for the pinned Kubernetes version.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import kubernetes_validate
import pytest
import typer

from jobs.benchmark.__main__ import app, rows_list
from jobs.benchmark.k8s import CONTAINER, CRONJOB, SECRET, job_from_cronjob, job_name
from tests.chart.render import by_kind, kind_node_version, pod_template
from twinlake.benchmarks import make_bench_id

pytestmark = pytest.mark.chart
STORES = ["minio", "versitygw"]
GIB = 2**30


def benchmark_cronjob(resources: list[dict[str, Any]]) -> dict[str, Any]:
    (cronjob,) = [c for c in by_kind(resources, "CronJob") if c["metadata"]["name"] == CRONJOB]
    return cronjob


def quantity(value: str | int) -> float:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": GIB, "Ti": 2**40}
    text = str(value)
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text.removesuffix(suffix)) * factor
    return float(text)


@pytest.mark.parametrize("store", STORES)
def test_the_benchmark_is_a_suspended_template_of_bounded_single_attempt_jobs(
    rendered: dict[str, list[dict[str, Any]]], store: str
) -> None:
    cronjob = benchmark_cronjob(rendered[store])
    spec = cronjob["spec"]
    assert spec["suspend"] is True and spec["concurrencyPolicy"] == "Forbid"
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0
    assert job["activeDeadlineSeconds"] >= 3600 and job["ttlSecondsAfterFinished"] >= 3600
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["terminationGracePeriodSeconds"] >= 60, "time to restore landing after SIGTERM"


def parse(args: list[str]) -> dict[str, Any]:
    """The options `python -m jobs.benchmark` reads from `args` (click's own parsing: unknown flags fail)."""
    command = typer.main.get_command(app)
    with command.make_context("python -m jobs.benchmark", list(args)) as context:
        return dict(context.params)


@pytest.mark.parametrize("store", STORES)
def test_the_benchmark_runs_the_real_cli_as_the_benchmark_role(
    rendered: dict[str, list[dict[str, Any]]], store: str
) -> None:
    template = pod_template(benchmark_cronjob(rendered[store]))
    assert template is not None
    (container,) = template["spec"]["containers"]
    assert container["name"] == CONTAINER and container["image"].startswith("twinlake/python:")
    command = container["command"]
    assert command[:3] == ["python", "-m", "jobs.benchmark"]
    args = parse(command[3:])  # every flag exists and every value parses
    assert rows_list(args["rows"]) == (10_000, 100_000, 1_000_000) and args["repeats"] == 3
    assert not args["start_engines"], "on the cluster the engines are deployed: the Job never starts any"
    assert str(args["cache"]).startswith(container["workingDir"])
    assert str(args["out"]).startswith(container["workingDir"])
    secrets = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e}
    assert secrets == {SECRET}
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {container["workingDir"], "/tmp"} <= mounts, "a read-only root: scratch and /tmp are volumes"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("store", STORES)
def test_the_benchmark_reaches_the_store_and_is_sized_for_three_million_rows(
    rendered: dict[str, list[dict[str, Any]]], store: str
) -> None:
    resources = rendered[store]
    template = pod_template(benchmark_cronjob(resources))
    assert template is not None
    (policy,) = [p for p in by_kind(resources, "NetworkPolicy") if p["metadata"]["name"] == "store-ingress"]
    admitted = policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    assert template["metadata"]["labels"].items() >= admitted.items()
    limits = template["spec"]["containers"][0]["resources"]
    # the DuckDB reference peaks near 3 GiB on 3 x 1M rows, the generator and the uploader need less
    assert quantity(limits["requests"]["memory"]) >= 3 * GIB
    assert quantity(limits["limits"]["memory"]) >= quantity(limits["requests"]["memory"]) + GIB
    scratch = next(v for v in template["spec"]["volumes"] if v["name"] == "scratch")["emptyDir"]["sizeLimit"]
    assert quantity(scratch) >= 4 * GIB


@pytest.mark.parametrize("store", STORES)
def test_a_job_made_from_the_template_validates_strictly(rendered: dict[str, list[dict[str, Any]]], store: str) -> None:
    cronjob = benchmark_cronjob(rendered[store])
    bench_id = make_bench_id(datetime(2026, 12, 1, 10, 15), "1a2b3c")
    job = job_from_cronjob(cronjob, job_name(bench_id), ["--bench-id", bench_id, "--rows", "10k"])
    job["metadata"]["namespace"] = "twinlake"
    kubernetes_validate.validate(job, kind_node_version(), strict=True)
    assert job["metadata"]["name"] == "benchmark-20261201t101500z-1a2b3c"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    args = parse(container["command"][3:] + container["args"])
    assert args["bench_id_"] == bench_id and rows_list(args["rows"]) == (10_000,)  # the extra flags win
    assert cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0].get("args") is None
    owned = job_from_cronjob({**cronjob, "metadata": {**cronjob["metadata"], "uid": "u-1"}}, "x", [])
    assert owned["metadata"]["ownerReferences"][0] == {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "name": CRONJOB,
        "uid": "u-1",
        "controller": True,
    }


def test_the_python_image_carries_the_benchmark_runtime() -> None:
    """The Job imports the DuckDB reference and draws plots: the image copies `benchmarks/` and installs the
    `bench` extra (duckdb, matplotlib), which is where duckdb lives now (not a dev-only dependency)."""
    import tomllib

    from tests.chart.render import REPO

    dockerfile = (REPO / "docker" / "python.Dockerfile").read_text(encoding="utf-8")
    assert "COPY benchmarks ./benchmarks" in dockerfile
    assert re.search(r"pip install '\.\[[a-z,]*\bbench\b[a-z,]*\]'", dockerfile), "no bench extra"
    assert "!benchmarks/" in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    bench = project["optional-dependencies"]["bench"]
    assert any(d.startswith("duckdb==") for d in bench) and any(d.startswith("matplotlib==") for d in bench)
    assert not any(d.startswith("duckdb") for d in project["optional-dependencies"]["dev"])
