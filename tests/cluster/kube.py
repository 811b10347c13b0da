"""Helpers of the cluster tests: helm against the real API server, waiting on it, reading what it stored."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from kubernetes import client, dynamic

from tests.chart.render import REPO

NAMESPACE = "twinlake"
RELEASE = "twinlake"
NAMESPACE_MANIFEST = REPO / "k8s" / "namespace.yaml"
OPERATOR_NAMESPACE = "spark-operator"
OPERATOR_RELEASE = "spark-operator"
OPERATOR_VALUES = REPO / "k8s" / "spark-operator-values.yaml"
HELM_TIMEOUT = "4m"
# client-go prints each warning the API server returns (Pod Security, deprecations, unknown fields) as a klog line.
WARNING = re.compile(r"^W\d{4} |warning", re.IGNORECASE | re.MULTILINE)
# The first test of a session may build the control plane from source (tens of minutes on a busy 2-core machine);
# every wait in these tests has its own, shorter bound.
CLUSTER_TIMEOUT = pytest.mark.timeout(3600)
T = TypeVar("T")


@dataclass(frozen=True)
class Helm:
    """The pinned helm, pointed at the control plane."""

    binary: Path
    kubeconfig: Path

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.binary), "--kubeconfig", str(self.kubeconfig), *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
        if check:
            assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        return done

    def manifest(self, release: str, namespace: str) -> list[dict[str, Any]]:
        """What the release's latest revision applied, as the server was asked to store it."""
        out = self.run("get", "manifest", release, "--namespace", namespace).stdout
        return [d for d in yaml.safe_load_all(out) if d]


def warnings_in(output: str) -> list[str]:
    return [line for line in output.splitlines() if WARNING.search(line)]


def wait_until(what: str, probe: Callable[[], T | None], timeout: float = 120.0, every: float = 0.5) -> T:
    """Poll `probe` until it returns something other than None (or falsy); fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def live(api: client.ApiClient, resource: dict[str, Any], namespace: str) -> Any:
    """The server's copy of a rendered resource (any kind, through discovery)."""
    kind = dynamic.DynamicClient(api).resources.get(api_version=resource["apiVersion"], kind=resource["kind"])
    name = resource["metadata"]["name"]
    return kind.get(name=name, namespace=namespace) if kind.namespaced else kind.get(name=name)


def pod_templates(resources: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(resource, pod template spec) of every workload that makes pods, CronJobs included."""
    for resource in resources:
        spec = resource.get("spec", {})
        if resource["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
            yield resource, spec["template"]["spec"]
        elif resource["kind"] == "CronJob":
            yield resource, spec["jobTemplate"]["spec"]["template"]["spec"]
        elif resource["kind"] == "Pod":
            yield resource, spec


def owned_pods(core: client.CoreV1Api, namespace: str, resource: dict[str, Any]) -> list[Any]:
    """The pods the controllers made for a rendered workload (a CronJob's through the Jobs it owns)."""
    selector = resource["spec"].get("selector", {}).get("matchLabels")
    name = resource["metadata"]["name"]
    if resource["kind"] in ("Job", "CronJob"):
        jobs = [name]
        if resource["kind"] == "CronJob":
            found = client.BatchV1Api(core.api_client).list_namespaced_job(namespace).items
            jobs = [j.metadata.name for j in found if any(o.name == name for o in j.metadata.owner_references or [])]
        return [p for j in jobs for p in core.list_namespaced_pod(namespace, label_selector=f"job-name={j}").items]
    assert selector, f"{resource['kind']}/{resource['metadata']['name']} has no matchLabels selector"
    labels = ",".join(f"{k}={v}" for k, v in selector.items())
    return list(core.list_namespaced_pod(namespace, label_selector=labels).items)


def events(core: client.CoreV1Api, namespace: str) -> list[str]:
    """Warning events of a namespace, one line each: what the controllers could not do."""
    found = core.list_namespaced_event(namespace, field_selector="type=Warning").items
    return [f"{e.involved_object.kind}/{e.involved_object.name}: {e.reason}: {e.message}" for e in found]
