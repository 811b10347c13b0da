"""Fixtures of the cluster tests: a control plane built from source, the spark-operator, the chart installed.

The control plane (scripts/control_plane.py) runs for the whole session in a temporary folder. The Kubeflow
spark-operator chart 2.5.2 is installed from its Go module with k8s/spark-operator-values.yaml, and the operator
itself (controller and webhook, built from the same module) runs as two local processes with the tokens of the
chart's own ServiceAccounts and the arguments of the chart's own Deployments. The API server reaches the webhook
through the chart's webhook Service, turned into an ExternalName for `localhost` (there is no kube-proxy here).
Then the twinlake chart is installed into the namespace of k8s/namespace.yaml, once per store.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config

from tests.chart.conftest import helm  # noqa: F401  (the pinned helm, built once)
from tests.chart.render import CHART, REPO, TAG, VERSITYGW_VALUES
from tests.cluster.kube import (
    HELM_TIMEOUT,
    NAMESPACE,
    NAMESPACE_MANIFEST,
    OPERATOR_NAMESPACE,
    OPERATOR_RELEASE,
    OPERATOR_VALUES,
    RELEASE,
    Helm,
    wait_until,
)

sys.path.insert(0, str(REPO / "scripts"))
import control_plane
import tools

from twinlake.cli import stack

SUBMISSIONS = Path("/tmp/spark")
STORES = {"minio": None, "versitygw": VERSITYGW_VALUES}
OPERATOR_CONTROLLER = stack.Component("spark-operator-controller", "controller")
OPERATOR_WEBHOOK = stack.Component("spark-operator-webhook", "webhook")


@pytest.fixture(scope="session")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[control_plane.ControlPlane]:
    """A fresh control plane for the session; a build or start failure fails the tests (never skips)."""
    root = tmp_path_factory.mktemp("control-plane")
    try:
        started = control_plane.start(root)
    except (stack.StackError, tools.ToolError) as exc:
        pytest.fail(f"the control plane could not start: {exc}", pytrace=False)
    yield started
    control_plane.stop(root)


@pytest.fixture(scope="session")
def api(plane: control_plane.ControlPlane) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(plane.kubeconfig))


@pytest.fixture(scope="session")
def cluster_helm(helm: Path, plane: control_plane.ControlPlane) -> Helm:  # noqa: F811
    return Helm(helm, plane.kubeconfig)


def spark_operator_chart() -> Path:
    """charts/spark-operator-chart of the spark-operator Go module (no chart repository is reachable here)."""
    try:
        crd = tools.spark_operator_crd()
    except tools.ToolError as exc:
        pytest.fail(str(exc), pytrace=False)
    chart = crd.parents[1]
    if not (chart / "Chart.yaml").is_file():
        pytest.fail(f"no spark-operator chart beside {crd}: `go mod download` of the module is needed", pytrace=False)
    return chart


@dataclass(frozen=True)
class SparkOperator:
    """The operator's chart as installed, and its two processes running against the control plane."""

    install_output: str
    logs: dict[str, Path]


def sa_kubeconfig(api: client.ApiClient, plane: control_plane.ControlPlane, namespace: str, account: str) -> Path:
    """A kubeconfig with a token of the ServiceAccount `account`: the process gets exactly that account's RBAC."""
    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=7200))
    token = client.CoreV1Api(api).create_namespaced_service_account_token(account, namespace, request).status.token
    path = plane.root / f"{account}.kubeconfig"
    return control_plane.write_kubeconfig(path, control_plane.kubeconfig(plane.server, plane.ca_file, account, token))


def deployment_container(api: client.ApiClient, name: str) -> Any:
    deployment = client.AppsV1Api(api).read_namespaced_deployment(name, OPERATOR_NAMESPACE)
    (container,) = deployment.spec.template.spec.containers
    return deployment, container


def out_of_cluster(args: list[str], overrides: dict[str, str]) -> list[str]:
    """The chart's arguments with the listed flags replaced (addresses and files that differ outside a pod)."""
    kept = [a for a in args if a.split("=", 1)[0] not in overrides]
    return kept + [f"{flag}={value}" for flag, value in overrides.items()]


def webhook_serves(port: int) -> bool:
    with socket.socket() as raw:
        raw.settimeout(2)
        try:
            raw.connect(("127.0.0.1", port))
        except OSError:
            return False
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        try:
            with context.wrap_socket(raw):
                return True
        except OSError:
            return False


@pytest.fixture(scope="session")
def namespace(api: client.ApiClient) -> str:
    """The namespace of k8s/namespace.yaml, created first as `make up` does (the operator's chart puts RBAC in it)."""
    manifest = yaml.safe_load(NAMESPACE_MANIFEST.read_text(encoding="utf-8"))
    assert manifest["metadata"]["name"] == NAMESPACE
    client.CoreV1Api(api).create_namespace(manifest)
    return NAMESPACE


@pytest.fixture(scope="session")
def spark_operator(
    api: client.ApiClient, cluster_helm: Helm, plane: control_plane.ControlPlane, namespace: str
) -> Iterator[SparkOperator]:
    try:
        operator = control_plane.binary(control_plane.SPARK_OPERATOR, "spark-operator")
    except stack.StackError as exc:
        pytest.fail(f"the spark-operator could not be built: {exc}", pytrace=False)
    port = control_plane.free_port()
    submissions_before = set(SUBMISSIONS.glob("*"))
    installed = cluster_helm.run(
        "upgrade", "--install", OPERATOR_RELEASE, str(spark_operator_chart()),
        "--namespace", OPERATOR_NAMESPACE, "--create-namespace",
        "--values", str(OPERATOR_VALUES), "--set", f"spark.jobNamespaces={{{NAMESPACE}}}",
        "--set", f"webhook.port={port}",
    )  # fmt: skip
    # No kube-proxy: the API server reaches the webhook's Service as an ExternalName for this host. The service's
    # DNS name stays what the webhook's certificate is made for (the API server checks it as the TLS server name).
    webhook, container = deployment_container(api, "spark-operator-webhook")
    service = client.CoreV1Api(api).read_namespaced_service("spark-operator-webhook-svc", OPERATOR_NAMESPACE)
    assert service.spec.ports[0].port == port
    patch = {"spec": {"type": "ExternalName", "externalName": "localhost", "clusterIP": None, "clusterIPs": None,
                      "selector": None}}  # fmt: skip
    client.CoreV1Api(api).patch_namespaced_service("spark-operator-webhook-svc", OPERATOR_NAMESPACE, patch)

    pyspark = Path(__import__("pyspark").__file__).parent
    env = {
        "SPARK_HOME": str(pyspark),  # the controller runs $SPARK_HOME/bin/spark-submit
        "PATH": f"{pyspark / 'bin'}:{os.environ['PATH']}",
        # In a pod these point at the API server; the controller builds spark-submit's k8s:// master from them.
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(plane.apiserver_port),
    }
    off = {"--metrics-bind-address": "0", "--health-probe-bind-address": "0"}
    certs = plane.root / "webhook-certs"
    certs.mkdir()
    webhook_kubeconfig = sa_kubeconfig(api, plane, OPERATOR_NAMESPACE, webhook.spec.template.spec.service_account_name)
    webhook_args = out_of_cluster(
        container.args, {**off, "--webhook-cert-dir": str(certs), "--kubeconfig": str(webhook_kubeconfig)}
    )
    control_plane.spawn(plane, OPERATOR_WEBHOOK, [str(operator), *webhook_args], env)
    controller, container = deployment_container(api, "spark-operator-controller")
    controller_kubeconfig = sa_kubeconfig(
        api, plane, OPERATOR_NAMESPACE, controller.spec.template.spec.service_account_name
    )
    controller_args = out_of_cluster(container.args, {**off, "--kubeconfig": str(controller_kubeconfig)})
    # spark-submit (fabric8) reads the same kubeconfig: it submits the driver pod as the controller's account.
    control_plane.spawn(
        plane, OPERATOR_CONTROLLER, [str(operator), *controller_args], {**env, "KUBECONFIG": str(controller_kubeconfig)}
    )
    logs = {c.name: plane.log(c) for c in (OPERATOR_WEBHOOK, OPERATOR_CONTROLLER)}
    try:
        wait_until(f"the webhook serving TLS on 127.0.0.1:{port} (log {logs['spark-operator-webhook']})",
                   lambda: webhook_serves(port), timeout=90)  # fmt: skip
        registration = client.AdmissionregistrationV1Api(api)
        wait_until(
            "the webhook to register its CA in the MutatingWebhookConfiguration",
            lambda: all(
                w.client_config.ca_bundle
                for w in registration.read_mutating_webhook_configuration("spark-operator-webhook").webhooks
            ),
            timeout=60,
        )
    except AssertionError:
        for component in (OPERATOR_CONTROLLER, OPERATOR_WEBHOOK):
            stack.stop(component, plane.layout)
        raise
    yield SparkOperator(install_output=installed.stdout + installed.stderr, logs=logs)
    for component in (OPERATOR_CONTROLLER, OPERATOR_WEBHOOK):
        stack.stop(component, plane.layout)
    # The controller writes each submission's pod templates to /tmp/spark/<submission id>/ (a fixed path).
    for submitted in set(SUBMISSIONS.glob("*")) - submissions_before:
        shutil.rmtree(submitted, ignore_errors=True)


@dataclass(frozen=True)
class Release:
    """The twinlake chart installed for one store."""

    store: str
    values: list[str]
    install_output: str
    resources: list[dict[str, Any]]


def chart_values(store: str) -> list[str]:
    values = STORES[store]
    return ["--set", f"image.tag={TAG}", *(["--values", str(values)] if values else [])]


def install(cluster_helm: Helm, values: list[str]) -> str:
    done = cluster_helm.run(
        "upgrade", "--install", RELEASE, str(CHART), "--namespace", NAMESPACE, *values,
        "--wait", "--wait-for-jobs", "--timeout", HELM_TIMEOUT,
    )  # fmt: skip
    return done.stdout + done.stderr


def remove_release(api: client.ApiClient, cluster_helm: Helm) -> None:
    """Uninstall, then delete what helm keeps on purpose (credentials) and what StatefulSets leave (claims)."""
    cluster_helm.run("uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--timeout", HELM_TIMEOUT)
    core = client.CoreV1Api(api)
    selector = f"app.kubernetes.io/instance={RELEASE}"
    core.delete_collection_namespaced_secret(NAMESPACE, label_selector=selector)
    core.delete_collection_namespaced_persistent_volume_claim(NAMESPACE, label_selector=selector)

    def empty() -> bool:
        left = core.list_namespaced_pod(NAMESPACE).items + core.list_namespaced_persistent_volume_claim(NAMESPACE).items
        return not left and not core.list_namespaced_secret(NAMESPACE, label_selector=selector).items

    wait_until(f"namespace {NAMESPACE} to be empty of the release", empty, timeout=120)


@pytest.fixture(scope="session", params=list(STORES))
def release(
    request: pytest.FixtureRequest, api: client.ApiClient, cluster_helm: Helm, spark_operator: SparkOperator
) -> Iterator[Release]:
    """The chart installed (and waited for) in the namespace of k8s/namespace.yaml, for one store at a time."""
    store: str = request.param
    values = chart_values(store)
    started = time.monotonic()
    output = install(cluster_helm, values)
    print(f"\ntwinlake ({store}) installed and ready in {time.monotonic() - started:.1f} s")
    yield Release(store, values, output, cluster_helm.manifest(RELEASE, NAMESPACE))
    remove_release(api, cluster_helm)
