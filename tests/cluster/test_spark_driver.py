"""The SparkApplication becomes a driver pod: the spark-operator (built from its module, run against the control
plane) runs spark-submit, which creates the pod through the API server, where the operator's webhook mutates it and
Pod Security `restricted` admits it. What the driver would run with is read back from the stored pod.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from kubernetes.utils import parse_quantity

from tests.cluster.conftest import Release, SparkOperator
from tests.cluster.kube import CLUSTER_TIMEOUT, NAMESPACE, events, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.slow, CLUSTER_TIMEOUT]
DRIVER_TIMEOUT_S = 300.0


def application(release: Release) -> dict[str, Any]:
    (app,) = [r for r in release.resources if r["kind"] == "SparkApplication"]
    return app


@pytest.fixture(scope="module")
def driver(api: client.ApiClient, release: Release, spark_operator: SparkOperator) -> Any:
    core = client.CoreV1Api(api)
    name = f"{application(release)['metadata']['name']}-driver"

    def scheduled() -> Any:
        try:
            pod = core.read_namespaced_pod(name, NAMESPACE)
        except client.ApiException:
            return None
        return pod if pod.spec.node_name and pod.status.phase == "Running" else None

    custom = client.CustomObjectsApi(api)

    def submitted() -> str | None:
        # spark-submit returned: the driver pod and everything it mounts (config maps, service) exist.
        app = custom.get_namespaced_custom_object("sparkoperator.k8s.io", "v1beta2", NAMESPACE, "sparkapplications",
                                                  application(release)["metadata"]["name"])  # fmt: skip
        state: str | None = app.get("status", {}).get("applicationState", {}).get("state")
        return state if state in ("SUBMITTED", "RUNNING") else None

    try:
        pod = wait_until(f"driver pod {name} Running", scheduled, timeout=DRIVER_TIMEOUT_S, every=2)
        wait_until("the SparkApplication SUBMITTED or RUNNING", submitted, timeout=DRIVER_TIMEOUT_S, every=2)
    except AssertionError as exc:
        logs = "\n".join(f"{k}: {v}" for k, v in spark_operator.logs.items())
        raise AssertionError(f"{exc}\nwarning events: {events(core, NAMESPACE)}\noperator logs:\n{logs}") from None
    return pod


def test_driver_runs_the_image_main_file_and_arguments(release: Release, driver: Any) -> None:
    spec = application(release)["spec"]
    (container,) = driver.spec.containers
    assert container.image == spec["image"]
    assert container.image_pull_policy == spec["imagePullPolicy"]
    main = spec["mainApplicationFile"]
    assert main in container.args, container.args
    assert container.args[container.args.index(main) + 1 :] == spec["arguments"], container.args


def test_driver_has_the_environment_from_the_secrets(release: Release, driver: Any) -> None:
    declared = application(release)["spec"]["driver"]["env"]
    (container,) = driver.spec.containers
    env = {e.name: e for e in container.env}
    for variable in declared:
        assert variable["name"] in env, f"{variable['name']} missing: the webhook did not mutate the driver pod"
        got = env[variable["name"]]
        if "valueFrom" in variable:
            ref = variable["valueFrom"]["secretKeyRef"]
            assert (got.value_from.secret_key_ref.name, got.value_from.secret_key_ref.key) == (ref["name"], ref["key"])
        else:
            assert got.value == variable["value"], variable["name"]
    assert env["TWINLAKE_S3_SECRET_KEY"].value_from.secret_key_ref.name == "store-engines-credentials"


def test_driver_resources_service_account_and_labels(release: Release, driver: Any) -> None:
    spec = application(release)["spec"]["driver"]
    (container,) = driver.spec.containers
    assert parse_quantity(container.resources.requests["cpu"]) == spec["cores"]
    memory = parse_quantity(spec["memory"].replace("g", "Gi")) + parse_quantity(
        spec["memoryOverhead"].replace("m", "Mi")
    )
    assert parse_quantity(container.resources.limits["memory"]) == memory
    assert parse_quantity(container.resources.requests["memory"]) == memory
    assert driver.spec.service_account_name == spec["serviceAccount"]
    assert driver.metadata.labels.items() >= spec["labels"].items()


def test_driver_security_context_is_restricted(release: Release, driver: Any) -> None:
    spec = application(release)["spec"]["driver"]
    pod = driver.spec.security_context
    assert pod.run_as_non_root is True and pod.run_as_user == spec["podSecurityContext"]["runAsUser"]
    assert pod.seccomp_profile.type == "RuntimeDefault"
    (container,) = driver.spec.containers
    security = container.security_context
    assert security.allow_privilege_escalation is False and security.capabilities.drop == ["ALL"]


def test_driver_spark_conf_carries_the_python_and_no_ivy_resolution(
    api: client.ApiClient, release: Release, driver: Any
) -> None:
    """Every config map the driver mounts exists (a kubelet would not start it otherwise); Spark's carries our conf."""
    conf = application(release)["spec"]["sparkConf"]
    maps = [v.config_map.name for v in driver.spec.volumes if v.config_map and not v.config_map.optional]
    assert maps
    core = client.CoreV1Api(api)
    properties = "".join("".join(core.read_namespaced_config_map(m, NAMESPACE).data.values()) for m in maps)
    for key in ("spark.pyspark.python", "spark.pyspark.driver.python", "spark.jars.ivy"):
        assert f"{key}={conf[key]}" in properties, key
    assert "spark.jars.packages" not in properties
