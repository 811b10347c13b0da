"""The retention CronJob: off by default; when on it lints, validates strictly, and runs the real retention CLI
with real flags and every required setting, as the engines' store role, admitted by the store's NetworkPolicy."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from tests.chart.render import (
    CHART,
    TAG,
    VERSITYGW_VALUES,
    by_kind,
    containers,
    env_names,
    helm_template,
    kind_node_version,
    pod_spec,
)
from tests.chart.test_contract import check_command, required_settings

pytestmark = pytest.mark.chart
ON = ("--set", "retention.enabled=true")


@pytest.fixture(scope="module")
def with_retention(helm: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        "minio": helm_template(helm, *ON),
        "versitygw": helm_template(helm, *ON, values=VERSITYGW_VALUES),
    }


def retention_cronjobs(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The retention CronJob among the chart's CronJobs (the benchmark has one too, suspended)."""
    return [c for c in by_kind(manifests, "CronJob") if c["metadata"]["name"] == "retention"]


def test_retention_is_off_by_default(rendered: dict[str, list[dict[str, Any]]]) -> None:
    assert not retention_cronjobs(rendered["minio"]) and not retention_cronjobs(rendered["versitygw"])


@pytest.mark.parametrize("values", [None, VERSITYGW_VALUES], ids=["minio", "versitygw"])
def test_helm_lint_with_retention_on(helm: Path, values: Path | None) -> None:
    command = [str(helm), "lint", str(CHART), "--strict", "--kube-version", kind_node_version()]
    command += ["--set", f"image.tag={TAG}", *ON, *(["--values", str(values)] if values else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("store", ["minio", "versitygw"])
def test_the_cronjob_validates_strictly(with_retention: dict[str, list[dict[str, Any]]], store: str) -> None:
    (cronjob,) = retention_cronjobs(with_retention[store])
    kubernetes_validate.validate(cronjob, kind_node_version(), strict=True)
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    assert cronjob["spec"]["schedule"] == "17 3 * * *"


@pytest.mark.parametrize("store", ["minio", "versitygw"])
def test_the_cronjob_runs_the_retention_cli_as_the_engines_role(
    with_retention: dict[str, list[dict[str, Any]]], store: str
) -> None:
    (cronjob,) = retention_cronjobs(with_retention[store])
    (container,) = containers(cronjob)
    assert container["image"] == f"twinlake/python:{TAG}"
    check_command(container["command"], "CronJob/retention")
    assert container["command"][2:] == ["jobs.retention", "--keep", "20", "--orphan-age", "3600", "--apply"]
    assert not required_settings() - env_names(container["env"])
    secrets = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e}
    assert secrets == {"store-engines-credentials"}
    spec = pod_spec(cronjob)
    assert spec is not None and spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True and "limits" in container["resources"]
    labels = cronjob["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    (policy,) = [p for p in by_kind(with_retention[store], "NetworkPolicy") if p["metadata"]["name"] == "store-ingress"]
    assert labels.items() >= policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"].items()


def test_a_dry_run_schedule_drops_apply(helm: Path) -> None:
    rendered = helm_template(helm, *ON, "--set", "retention.apply=false", "--set", "retention.keep=5")
    (cronjob,) = retention_cronjobs(rendered)
    (container,) = containers(cronjob)
    assert container["command"][2:] == ["jobs.retention", "--keep", "5", "--orphan-age", "3600"]
