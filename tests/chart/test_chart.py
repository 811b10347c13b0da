"""The chart lints, renders for both stores, and every rendered resource is valid for the pinned cluster.

Built-in resources: kubernetes-validate --strict (unknown fields rejected) for the Kubernetes version of the
kindest/node image pinned in kind-config.yaml. The SparkApplication: the openAPIV3Schema of spark-operator
v2.5.2's CRD with unknown fields forbidden everywhere the CRD does not declare a map.
"""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.chart.render import (
    CHART,
    TAG,
    VERSITYGW_VALUES,
    by_kind,
    containers,
    helm_template,
    kind_node_version,
    pod_spec,
    pod_template,
)
from twinlake.access import DATA_ROLES

pytestmark = pytest.mark.chart
STORES = ["minio", "versitygw"]


@pytest.mark.parametrize("values", [None, VERSITYGW_VALUES], ids=STORES)
def test_helm_lint(helm: Path, values: Path | None) -> None:
    command = [str(helm), "lint", str(CHART), "--strict", "--kube-version", kind_node_version()]
    command += ["--set", f"image.tag={TAG}", *(["--values", str(values)] if values else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 chart(s) failed" in done.stdout


def test_image_tag_is_required_and_never_latest(helm: Path) -> None:
    for tag, message in (("", "image.tag is required"), ("latest", "must not be latest")):
        command = [str(helm), "template", "t", str(CHART), "--kube-version", kind_node_version()]
        done = subprocess.run([*command, "--set", f"image.tag={tag}"], capture_output=True, text=True, check=False)
        assert done.returncode != 0 and message in done.stderr, done.stderr


@pytest.mark.parametrize("store", STORES)
def test_builtin_resources_validate_strictly(rendered: dict[str, list[dict[str, Any]]], store: str) -> None:
    version = kind_node_version()
    builtin = [r for r in rendered[store] if not r["apiVersion"].startswith("sparkoperator.k8s.io/")]
    assert {r["kind"] for r in builtin} >= {"StatefulSet", "Deployment", "Job", "Service", "Secret", "NetworkPolicy"}
    errors = []
    for resource in builtin:
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{resource['kind']}/{resource['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not errors, "\n".join(errors)


def test_strict_validation_rejects_an_unknown_field() -> None:
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"prots": []}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, kind_node_version(), strict=True)


def closed_schema(schema: Any) -> Any:
    """A copy of an openAPIV3Schema where every object with declared properties forbids other properties."""
    schema = copy.deepcopy(schema)

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for item in node:
                close(item)

    close(schema)
    return schema


@pytest.fixture(scope="session")
def spark_application_schema(spark_application_crd: Path) -> Any:
    crd = yaml.safe_load(spark_application_crd.read_text(encoding="utf-8"))
    assert crd["spec"]["group"] == "sparkoperator.k8s.io"
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1beta2"]
    return closed_schema(version["schema"]["openAPIV3Schema"])


@pytest.mark.parametrize("store", STORES)
def test_spark_application_matches_the_operator_crd(
    rendered: dict[str, list[dict[str, Any]]], store: str, spark_application_schema: Any
) -> None:
    (app,) = by_kind(rendered[store], "SparkApplication")
    assert app["apiVersion"] == "sparkoperator.k8s.io/v1beta2"
    validator = jsonschema.Draft7Validator(spark_application_schema)
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(app)]
    assert not errors, "\n".join(errors)
    spec = app["spec"]
    assert (spec["type"], spec["mode"], spec["sparkVersion"]) == ("Python", "cluster", "4.0.1")
    assert spec["restartPolicy"]["type"] == "Always"
    assert {"onFailureRetryInterval", "onSubmissionFailureRetryInterval"} <= set(spec["restartPolicy"])
    assert spec["mainApplicationFile"].startswith("local:///")
    assert "deps" not in spec and not any(k.startswith("spark.jars.packages") for k in spec.get("sparkConf", {}))
    checkpoint = spec["arguments"][spec["arguments"].index("--checkpoint") + 1]
    assert checkpoint.startswith("s3a://")


def test_closed_schema_rejects_an_unknown_spark_field(spark_application_schema: Any) -> None:
    app = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": "x"},
        "spec": {
            "type": "Python",
            "sparkVersion": "4.0.1",
            "mainApplicationFile": "local:///x.py",
            "driver": {"cores": 1, "memroy": "1g"},
            "executor": {},
        },
    }
    messages = [e.message for e in jsonschema.Draft7Validator(spark_application_schema).iter_errors(app)]
    assert any("memroy" in m for m in messages), messages


@pytest.mark.parametrize("store", STORES)
def test_images_are_pinned_and_project_images_use_the_tag(
    rendered: dict[str, list[dict[str, Any]]], store: str
) -> None:
    images = [c["image"] for r in rendered[store] for c in containers(r)]
    images += [r["spec"]["image"] for r in by_kind(rendered[store], "SparkApplication")]
    for image in images:
        assert not image.endswith(":latest") and ":" in image.split("/")[-1], image
        if image.startswith("twinlake/"):
            assert image.endswith(f":{TAG}"), image
    if store == "minio":
        assert any(
            re.fullmatch(r"quay\.io/minio/minio:RELEASE\.2025-09-07T16-13-09Z@sha256:[0-9a-f]{64}", i) for i in images
        )
    else:
        assert "versity/versitygw:v1.8.0" in images
    assert any(re.fullmatch(r"apache/kafka:4\.1\.\d+", i) for i in images)


@pytest.mark.parametrize("store", STORES)
def test_pods_run_as_non_root_with_probes_and_resources(rendered: dict[str, list[dict[str, Any]]], store: str) -> None:
    for resource in rendered[store]:
        spec = pod_spec(resource)
        if spec is None:
            continue
        name = f"{resource['kind']}/{resource['metadata']['name']}"
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec.get("enableServiceLinks") is False, f"{name}: a Service named kafka would inject KAFKA_* env"
        for container in containers(resource):
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]
            assert "limits" in container["resources"] and "requests" in container["resources"], name
            assert container["imagePullPolicy"] == "IfNotPresent", name
        if resource["kind"] in ("Deployment", "StatefulSet"):
            main = spec["containers"][0]
            assert "readinessProbe" in main and "livenessProbe" in main, name


def test_kafka_is_single_node_kraft_with_its_topics(rendered: dict[str, list[dict[str, Any]]]) -> None:
    (kafka,) = [r for r in by_kind(rendered["minio"], "StatefulSet") if r["metadata"]["name"] == "kafka"]
    env = {e["name"]: e.get("value") for e in kafka["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller" and env["CLUSTER_ID"]
    (topics,) = [j for j in by_kind(rendered["minio"], "Job") if j["metadata"]["name"].startswith("kafka-topics")]
    job_env = {e["name"]: e["value"] for e in topics["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert (job_env["EVENTS_TOPIC"], job_env["EVENTS_PARTITIONS"]) == ("twinlake.store-events", "3")
    assert (job_env["DLQ_TOPIC"], job_env["DLQ_PARTITIONS"]) == ("twinlake.store-events.dlq", "1")


def test_minio_publishes_to_kafka_with_a_persistent_queue(rendered: dict[str, list[dict[str, Any]]]) -> None:
    (minio,) = [r for r in by_kind(rendered["minio"], "StatefulSet") if r["metadata"]["name"] == "minio"]
    container = minio["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    (target,) = [
        k.removeprefix("MINIO_NOTIFY_KAFKA_ENABLE_") for k in env if k.startswith("MINIO_NOTIFY_KAFKA_ENABLE_")
    ]
    queue = env[f"MINIO_NOTIFY_KAFKA_QUEUE_DIR_{target}"]
    data_dir = container["args"][1]
    claims = {t["metadata"]["name"] for t in minio["spec"]["volumeClaimTemplates"]}
    persistent = [m["mountPath"] for m in container["volumeMounts"] if m["name"] in claims]
    assert any(queue.startswith(p + "/") for p in persistent), f"queue_dir {queue} is not on the volume"
    assert not queue.startswith(data_dir + "/"), "a folder inside MinIO's data folder would be a bucket"
    (service,) = [s for s in by_kind(rendered["minio"], "Service") if s["metadata"]["name"] == "minio"]
    assert service["spec"]["type"] == "NodePort" and service["spec"]["ports"][0]["nodePort"] == 30900
    init = [j for j in by_kind(rendered["minio"], "Job") if j["metadata"]["name"].startswith("store-init")]
    commands = [c["command"] for j in init for c in containers(j)]
    assert ["python", "-m", "jobs.init_store", "--minio-kafka-target", target] in [c[:5] for c in commands]


def test_store_node_port_matches_kind_config(rendered: dict[str, list[dict[str, Any]]]) -> None:
    from tests.chart.render import KIND_CONFIG

    config = yaml.safe_load(KIND_CONFIG.read_text(encoding="utf-8"))
    mapped = {m["containerPort"]: m["hostPort"] for n in config["nodes"] for m in n.get("extraPortMappings", [])}
    for store in STORES:
        node_ports = [
            p["nodePort"] for s in by_kind(rendered[store], "Service") for p in s["spec"]["ports"] if "nodePort" in p
        ]
        assert node_ports and all(p in mapped for p in node_ports), (store, node_ports, mapped)
    assert mapped[30900] == 9000


@pytest.mark.parametrize("store", STORES)
def test_credentials_are_generated_per_role_never_values(
    helm: Path, rendered: dict[str, list[dict[str, Any]]], store: str
) -> None:
    values = (CHART / "values.yaml").read_text(encoding="utf-8").lower()
    assert "password" not in values and "secretkey" not in values and "accesskey" not in values
    secrets = {s["metadata"]["name"]: s for s in by_kind(rendered[store], "Secret")}
    roles = ("root", *DATA_ROLES)
    assert set(secrets) == {f"store-{r}-credentials" for r in roles}
    assert all(set(s["data"]) == {"accessKey", "secretKey"} for s in secrets.values())
    assert len({s["data"]["accessKey"] for s in secrets.values()}) == len(roles), "one account per role"
    assert {s["metadata"]["labels"]["twinlake.dev/store-kind"] for s in secrets.values()} == {store}
    again = {s["metadata"]["name"]: s["data"] for s in by_kind(helm_template(helm), "Secret")}
    assert all(again[name]["secretKey"] != s["data"]["secretKey"] for name, s in secrets.items()), "not generated"


def test_secrets_are_reused_only_for_the_store_they_were_made_for() -> None:
    """`lookup` finds nothing under `helm template`; the reuse rule itself is read from the template."""
    template = (CHART / "templates" / "store" / "secrets.yaml").read_text(encoding="utf-8")
    assert "randAlphaNum" in template and "lookup" in template
    assert re.search(r"if and \(eq \$oldKind \$kind\)", template), "old values must be reused for the same store only"


def test_network_policies_admit_only_labelled_clients(rendered: dict[str, list[dict[str, Any]]]) -> None:
    policies = {p["metadata"]["name"]: p for p in by_kind(rendered["minio"], "NetworkPolicy")}
    (clients, node_port) = policies["store-ingress"]["spec"]["ingress"]
    assert [f["ipBlock"]["cidr"] for f in node_port["from"]] == ["172.16.0.0/12"]  # the nodes' network, not 0.0.0.0/0
    assert "ipBlock" not in clients["from"][0]
    kafka_from = policies["kafka-ingress"]["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    clients = [r for r in rendered["minio"] if pod_spec(r) is not None]
    labels = {r["metadata"]["name"]: (pod_template(r) or {})["metadata"]["labels"] for r in clients}
    assert labels["pandas-worker"].items() >= kafka_from.items()
    assert labels["minio"].items() >= kafka_from.items()  # MinIO publishes to Kafka
    store_from = policies["store-ingress"]["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    assert labels["pandas-worker"].items() >= store_from.items()
    assert labels["dashboard"].items() >= store_from.items()
    assert not labels["dashboard"].items() >= kafka_from.items(), "the dashboard has no business with Kafka"
    assert labels["benchmark"].items() >= store_from.items()
    assert not labels["benchmark"].items() >= kafka_from.items()  # the benchmark talks to the store only
    (app,) = by_kind(rendered["minio"], "SparkApplication")
    for role in ("driver", "executor"):
        assert app["spec"][role]["labels"].items() >= {**kafka_from, **store_from}.items()


@pytest.mark.parametrize("sources", ["{0.0.0.0/0}", "{::/0}", "{}", "null"])
def test_the_store_node_port_never_admits_everyone(helm: Path, sources: str) -> None:
    command = [str(helm), "template", "twinlake", str(CHART), "--kube-version", kind_node_version()]
    command += ["--set", f"image.tag={TAG}"]
    done = subprocess.run(
        [*command, "--set", f"networkPolicies.storeNodePortSources={sources}"], capture_output=True, text=True
    )
    assert done.returncode != 0 and "storeNodePortSources" in done.stderr, done.stderr


@pytest.mark.parametrize("store", STORES)
def test_store_init_creates_an_account_per_role_after_the_buckets(
    rendered: dict[str, list[dict[str, Any]]], store: str
) -> None:
    (job,) = [j for j in by_kind(rendered[store], "Job") if j["metadata"]["name"].startswith("store-init")]
    spec = job["spec"]["template"]["spec"]
    (init,) = spec["initContainers"]
    (users,) = spec["containers"]
    assert init["command"][:3] == ["python", "-m", "jobs.init_store"] and "--wait-seconds" in init["command"]
    assert users["command"][:5] == ["python", "-m", "jobs.store_users", "--store", store]
    mounted = {m["mountPath"].rsplit("/", 1)[1] for m in users["volumeMounts"] if m["name"].startswith("user-")}
    assert mounted == set(DATA_ROLES)
    root = {e["valueFrom"]["secretKeyRef"]["name"] for c in (init, users) for e in c["env"] if "valueFrom" in e}
    assert root == {"store-root-credentials"}


def test_versitygw_keeps_its_accounts_on_the_volume(rendered: dict[str, list[dict[str, Any]]]) -> None:
    (gateway,) = [r for r in by_kind(rendered["versitygw"], "StatefulSet") if r["metadata"]["name"] == "versitygw"]
    args = gateway["spec"]["template"]["spec"]["containers"][0]["args"]
    iam = args[args.index("--iam-dir") + 1]
    assert args.index("--iam-dir") < args.index("posix"), "a global flag goes before the backend"
    assert iam.startswith("/data/") and "/data/iam" in str(gateway["spec"]["template"]["spec"]["initContainers"])


def test_every_value_is_documented() -> None:
    lines = (CHART / "values.yaml").read_text(encoding="utf-8").splitlines()
    undocumented = []
    for i, line in enumerate(lines):
        if re.match(r"^\s*[A-Za-z][\w.-]*: (?!\{)", line):
            previous = lines[i - 1].strip() if i else ""
            if not previous.startswith("# --") and not previous.startswith("#"):
                undocumented.append(line.strip())
    assert not undocumented, undocumented
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    leaves = _leaf_keys(yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8")))
    missing = [k for k in leaves if f"`{k}`" not in readme]
    assert not missing, f"chart README's values table lacks {missing}"


def _leaf_keys(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, dict) and node and not all(k in ("cpu", "memory") for k in node):
        if set(node) <= {"requests", "limits"}:
            return [prefix.rstrip(".")]
        return [k for key, value in node.items() for k in _leaf_keys(value, f"{prefix}{key}.")]
    return [prefix.rstrip(".")]


def test_names_and_labels_come_from_helpers() -> None:
    for path in (CHART / "templates").rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"^\s*name: (.+)$", text, re.MULTILINE):
            value = match.group(1).strip()
            assert "{{" in value or value in _LITERAL_NAMES, f"{path.name}: literal name {value!r}"
        assert "app.kubernetes.io/" not in text, f"{path.name}: labels belong in _helpers.tpl"


# Names that are not resource names: container, port, volume and env names.
_LITERAL_NAMES = {
    "kafka",
    "minio",
    "versitygw",
    "client",
    "s3",
    "data",
    "tmp",
    "heartbeat",
    "create-topics",
    "init-store",
    "store-users",
    "pandas-worker",
    "prepare-dirs",
    "wait-for-topics",
    "dashboard",
    "http",
    "home",
    "benchmark",
    "scratch",
    "retention",
}
