"""The dashboard's resources in the chart: read-only, non-root, probed on Streamlit's health path, reachable through
the NodePort that kind-config.yaml publishes, with the dashboard role's credentials; and the image that runs it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart.render import KIND_CONFIG, REPO, by_kind, helm_template

pytestmark = pytest.mark.chart
STORES = ["minio", "versitygw"]


def _dashboard(resources: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    (deployment,) = [d for d in by_kind(resources, "Deployment") if d["metadata"]["name"] == "dashboard"]
    (service,) = [s for s in by_kind(resources, "Service") if s["metadata"]["name"] == "dashboard"]
    return deployment, service


@pytest.mark.parametrize("store", STORES)
def test_the_dashboard_is_read_only_non_root_and_probed_on_its_health_path(
    rendered: dict[str, list[dict[str, Any]]], store: str
) -> None:
    deployment, _ = _dashboard(rendered[store])
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (port,) = container["ports"]
    assert container["command"] == [
        "python",
        "-m",
        "dashboard",
        "--address",
        "0.0.0.0",
        "--port",
        str(port["containerPort"]),
    ]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/_stcore/health", "port": port["name"]}, probe
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    # Every place Streamlit may write is an emptyDir: $HOME (~/.streamlit) and /tmp.
    empty = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    writable = {m["mountPath"] for m in container["volumeMounts"] if m["name"] in empty}
    env = {e["name"]: e for e in container["env"]}
    assert {env["HOME"]["value"], "/tmp"} <= writable
    assert deployment["spec"]["template"]["metadata"]["labels"]["twinlake.dev/store-client"] == "true"
    for variable in ("TWINLAKE_S3_ACCESS_KEY", "TWINLAKE_S3_SECRET_KEY"):
        assert env[variable]["valueFrom"]["secretKeyRef"]["name"] == "store-dashboard-credentials"


def test_the_dashboard_service_is_the_node_port_kind_publishes_on_8501(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    deployment, service = _dashboard(rendered["minio"])
    (port,) = deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
    (service_port,) = service["spec"]["ports"]
    assert service["spec"]["type"] == "NodePort" and service_port["targetPort"] == port["name"]
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    config = yaml.safe_load(KIND_CONFIG.read_text(encoding="utf-8"))
    mapped = {m["containerPort"]: m for n in config["nodes"] for m in n.get("extraPortMappings", [])}
    published = mapped[service_port["nodePort"]]
    assert (published["hostPort"], published["listenAddress"]) == (8501, "127.0.0.1")


def test_the_dashboard_can_be_left_out(helm: Path) -> None:
    resources = helm_template(helm, "--set", "dashboard.enabled=false")
    assert not [r for r in resources if r["metadata"]["name"] == "dashboard"]


def test_the_python_image_installs_the_dashboard_and_its_settings() -> None:
    dockerfile = (REPO / "docker" / "python.Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^COPY dashboard \./dashboard$", dockerfile, re.MULTILINE)
    assert re.search(r"pip install '\.\[[a-z,]*dashboard[a-z,]*\]'", dockerfile), "no dashboard extra"
    ignore = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "!dashboard/" in ignore, ".dockerignore must let the dashboard (and its .streamlit/config.toml) in"
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert '".streamlit/config.toml"' in pyproject, "the dashboard's Streamlit settings are package data"
    assert re.search(r'"streamlit==1\.67\.\d+"', pyproject), "streamlit is pinned"
