"""The chart installed into a real control plane: accepted, admitted under Pod Security `restricted`, idempotent.

Each test walks every resource the release rendered (and every pod template and ServiceAccount in it), so
workloads added to the chart later are covered without a change here. Runs once per store (MinIO, versitygw).
"""

from __future__ import annotations

import base64
import contextlib
import time
from typing import Any

import pytest
import yaml
from kubernetes import client

from tests.chart.render import CHART, KIND_CONFIG
from tests.cluster.conftest import Release, SparkOperator, install
from tests.cluster.kube import (
    CLUSTER_TIMEOUT,
    NAMESPACE,
    NAMESPACE_MANIFEST,
    RELEASE,
    Helm,
    events,
    live,
    owned_pods,
    pod_templates,
    wait_until,
    warnings_in,
)

pytestmark = [pytest.mark.cluster, pytest.mark.slow, CLUSTER_TIMEOUT]


def test_the_namespace_enforces_pod_security_restricted(api: client.ApiClient, release: Release) -> None:
    labels = client.CoreV1Api(api).read_namespace(NAMESPACE).metadata.labels
    declared = yaml.safe_load(NAMESPACE_MANIFEST.read_text(encoding="utf-8"))["metadata"]["labels"]
    for mode in ("enforce", "warn", "audit"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted", mode
        assert declared[f"pod-security.kubernetes.io/{mode}"] == "restricted", f"{NAMESPACE_MANIFEST.name}: {mode}"


def test_spark_operator_chart_installs_without_warnings(spark_operator: SparkOperator) -> None:
    assert not warnings_in(spark_operator.install_output), spark_operator.install_output


def test_every_resource_is_accepted_without_warnings(api: client.ApiClient, release: Release) -> None:
    assert not warnings_in(release.install_output), release.install_output
    kinds = {r["kind"] for r in release.resources}
    assert {"StatefulSet", "Deployment", "Job", "Service", "Secret", "SparkApplication"} <= kinds, kinds
    for resource in release.resources:
        stored = live(api, resource, NAMESPACE)
        assert stored.metadata.uid, f"{resource['kind']}/{resource['metadata']['name']} not stored"


def test_every_workload_gets_its_pods_admitted_and_scheduled(api: client.ApiClient, release: Release) -> None:
    """The controllers created every pod under `restricted` (a rejection is a FailedCreate event, no pod)."""
    core = client.CoreV1Api(api)
    workloads = [r for r, _ in pod_templates(release.resources)]
    assert workloads
    for workload in workloads:
        name = f"{workload['kind']}/{workload['metadata']['name']}"
        if workload["kind"] == "CronJob":  # no run before its schedule: run one now, as `kubectl create job --from`
            workload = run_now(api, workload)
        elif workload["spec"].get("replicas") == 0:
            continue
        try:
            wait_until(f"pods of {name} scheduled and started", lambda w=workload: started(core, w), timeout=60)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; warning events: {events(core, NAMESPACE)}") from None
    failed = [e for e in events(core, NAMESPACE) if "FailedCreate" in e or "violates PodSecurity" in e]
    assert not failed, failed


def started(core: client.CoreV1Api, workload: dict[str, Any]) -> bool:
    pods = owned_pods(core, NAMESPACE, workload)
    return bool(pods) and all(p.spec.node_name and p.status.phase in ("Running", "Succeeded") for p in pods)


def run_now(api: client.ApiClient, cronjob: dict[str, Any]) -> dict[str, Any]:
    """A Job from a CronJob's template (deleted with its pods when the release is removed: it is owned)."""
    stored = client.BatchV1Api(api).read_namespaced_cron_job(cronjob["metadata"]["name"], NAMESPACE)
    owner = client.V1OwnerReference(api_version="batch/v1", kind="CronJob", name=stored.metadata.name,
                                    uid=stored.metadata.uid)  # fmt: skip
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"{stored.metadata.name}-now", "namespace": NAMESPACE, "ownerReferences": [owner]},
        "spec": cronjob["spec"]["jobTemplate"]["spec"],
    }
    with contextlib.suppress(client.ApiException):  # already run by an earlier test of this release
        client.BatchV1Api(api).create_namespaced_job(NAMESPACE, job)
    return job


def test_workloads_without_api_access_get_no_token(api: client.ApiClient, release: Release) -> None:
    """The ServiceAccount admission mounts a token unless the pod opts out: only the Spark driver needs one."""
    core = client.CoreV1Api(api)
    for workload, template in pod_templates(release.resources):
        assert template.get("automountServiceAccountToken") is False, workload["metadata"]["name"]
        for pod in owned_pods(core, NAMESPACE, workload):
            mounted = [v.name for v in pod.spec.volumes or [] if v.projected and v.name.startswith("kube-api-access")]
            assert not mounted, f"{pod.metadata.name} mounts an API token: {mounted}"


def _secrets(api: client.ApiClient, release: Release) -> dict[str, Any]:
    names = [r["metadata"]["name"] for r in release.resources if r["kind"] == "Secret"]
    core = client.CoreV1Api(api)
    return {n: core.read_namespaced_secret(n, NAMESPACE) for n in names}


def _state(api: client.ApiClient, resources: list[dict[str, Any]]) -> dict[str, str]:
    """kind/name -> version of every resource of the release and every pod in the namespace.

    The version is the generation where the server keeps one (it moves only when the spec changes, not when a
    controller writes status), else the resourceVersion; a pod's is its uid (a replaced pod is a new one).
    """
    state = {}
    for resource in resources:
        meta = live(api, resource, NAMESPACE).metadata
        state[f"{resource['kind']}/{resource['metadata']['name']}"] = str(meta.generation or meta.resourceVersion)
    for pod in client.CoreV1Api(api).list_namespaced_pod(NAMESPACE).items:
        state[f"Pod/{pod.metadata.name}"] = pod.metadata.uid
    return state


def test_upgrade_keeps_the_generated_credentials(api: client.ApiClient, release: Release, cluster_helm: Helm) -> None:
    before = _secrets(api, release)
    assert before and all(set(s.data) == {"accessKey", "secretKey"} for s in before.values())
    install(cluster_helm, release.values)
    after = _secrets(api, release)
    for name, secret in before.items():
        assert after[name].data == secret.data, f"{name}: credentials changed on upgrade"
        assert after[name].metadata.resource_version == secret.metadata.resource_version, f"{name} was rewritten"
        assert base64.b64decode(secret.data["secretKey"]), name


def test_a_second_upgrade_changes_nothing(api: client.ApiClient, release: Release, cluster_helm: Helm) -> None:
    install(cluster_helm, release.values)  # settle: the first upgrade of a release may still differ
    resources = cluster_helm.manifest(RELEASE, NAMESPACE)

    def settled() -> dict[str, str] | None:
        # Controllers act after an install returns (the spark-operator submits the driver pod when it gets to
        # it): compare against a state that holds still, so only the upgrade itself can change what follows.
        first = _state(api, resources)
        time.sleep(3)
        return first if _state(api, resources) == first else None

    before = wait_until("the release's resources and pods hold still", settled, timeout=120)
    output = install(cluster_helm, release.values)
    assert not warnings_in(output), output
    after = _state(api, cluster_helm.manifest(RELEASE, NAMESPACE))
    changed = {k: (v, after[k]) for k, v in before.items() if k in after and after[k] != v}
    added, removed = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    assert not changed and not added and not removed, f"changed: {changed}; added: {added}; removed: {removed}"


def test_the_store_node_port_is_taken_once_per_cluster(
    api: client.ApiClient, release: Release, cluster_helm: Helm
) -> None:
    """NodePorts are cluster-wide: a second release elsewhere is refused the store's port (one twinlake per cluster)."""
    other = "twinlake-second"
    client.CoreV1Api(api).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    try:
        done = cluster_helm.run("install", "second", str(CHART), "--namespace", other, *release.values, check=False)
        assert done.returncode != 0 and "provided port is already allocated" in done.stderr, done.stderr
    finally:
        cluster_helm.run("uninstall", "second", "--namespace", other, check=False)
        client.CoreV1Api(api).delete_namespace(other)
    services = client.CoreV1Api(api).list_namespaced_service(NAMESPACE).items
    node_ports = sorted(p.node_port for s in services for p in s.spec.ports if p.node_port)
    config = yaml.safe_load(KIND_CONFIG.read_text(encoding="utf-8"))
    published = sorted(m["containerPort"] for n in config["nodes"] for m in n.get("extraPortMappings", []))
    assert node_ports == published  # the store's and the dashboard's, each published by kind-config.yaml
