"""Render the twinlake chart with the pinned helm and walk what it renders (shared by the chart tests)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "twinlake"
VERSITYGW_VALUES = CHART / "ci" / "versitygw-values.yaml"
KIND_CONFIG = REPO / "kind-config.yaml"
SPARK_DOCKERFILE = REPO / "docker" / "spark.Dockerfile"
TAG = "0123abc"  # what `make up` passes: a git short sha
NAMESPACE = "twinlake"


def kind_node_version() -> str:
    """The Kubernetes version of the kindest/node image pinned in kind-config.yaml, e.g. "1.37.0"."""
    config = yaml.safe_load(KIND_CONFIG.read_text(encoding="utf-8"))
    images = {n.get("image", "") for n in config["nodes"]}
    assert len(images) == 1, f"every node of {KIND_CONFIG.name} must pin the same image: {images}"
    found = re.fullmatch(r"kindest/node:v(\d+\.\d+\.\d+)@sha256:[0-9a-f]{64}", images.pop())
    assert found, f"{KIND_CONFIG.name}: pin kindest/node:v<x.y.z>@sha256:<digest>"
    return found.group(1)


def helm_template(helm: Path, *args: str, values: Path | None = None) -> list[dict[str, Any]]:
    command = [
        str(helm),
        "template",
        "twinlake",
        str(CHART),
        "--namespace",
        NAMESPACE,
        "--kube-version",
        kind_node_version(),
        "--set",
        f"image.tag={TAG}",
        *(["--values", str(values)] if values else []),
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stderr}"
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def pod_template(resource: dict[str, Any]) -> dict[str, Any] | None:
    """The pod template (metadata and spec) of a built-in workload; a CronJob's is inside its jobTemplate."""
    kind = resource["kind"]
    if kind in ("Deployment", "StatefulSet", "Job", "DaemonSet", "ReplicaSet"):
        template: dict[str, Any] = resource["spec"]["template"]
        return template
    if kind == "CronJob":
        template = resource["spec"]["jobTemplate"]["spec"]["template"]
        return template
    if kind == "Pod":
        return {"metadata": resource["metadata"], "spec": resource["spec"]}
    return None


def pod_spec(resource: dict[str, Any]) -> dict[str, Any] | None:
    template = pod_template(resource)
    if template is None:
        return None
    spec: dict[str, Any] = template["spec"]
    return spec


def containers(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Init containers then containers of a built-in workload."""
    spec = pod_spec(resource)
    if spec is None:
        return
    yield from spec.get("initContainers", [])
    yield from spec.get("containers", [])


def by_kind(resources: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["kind"] == kind]


def env_names(env: list[dict[str, Any]]) -> set[str]:
    return {e["name"] for e in env if "value" in e or "valueFrom" in e}


def spark_app_root() -> str:
    """APP_ROOT of docker/spark.Dockerfile: where the Spark image keeps the project's sources."""
    found = re.search(r"^ARG APP_ROOT=(\S+)$", SPARK_DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE)
    assert found, f"{SPARK_DOCKERFILE} must declare ARG APP_ROOT=<path>"
    return found.group(1)
