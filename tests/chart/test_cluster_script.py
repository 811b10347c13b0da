"""scripts/cluster.sh (make up/down/drop): static checks, and its prerequisite messages without a cluster."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.chart.render import KIND_CONFIG, REPO, kind_node_version

pytestmark = pytest.mark.chart
SCRIPT = REPO / "scripts" / "cluster.sh"


def test_script_parses() -> None:
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


@pytest.mark.parametrize(("command", "missing"), [("up", "docker"), ("down", "kind"), ("drop", "kubectl")])
def test_missing_prerequisites_fail_with_a_clear_message(tmp_path: Path, command: str, missing: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", "bash"):
        found = shutil.which(tool)
        assert found
        (bin_dir / tool).symlink_to(found)
    done = subprocess.run(
        ["bash", str(SCRIPT), command],
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"`{missing}` is not on PATH" in done.stderr and "Install it" in done.stderr


def test_up_pins_the_operator_and_never_uses_latest() -> None:
    text = SCRIPT.read_text(encoding="utf-8")
    assert "OPERATOR_VERSION=2.5.2" in text and "https://kubeflow.github.io/spark-operator" in text
    assert "spark.jobNamespaces={$NAMESPACE}" in text
    assert "deployment/spark-operator-webhook" in text
    assert "git rev-parse --short HEAD" in text and ":latest" not in text
    assert "kind load image-archive" in text
    assert re.search(r"--set \"image\.tag=\$tag\"", text)


def test_operator_values_render_with_the_operator_chart(helm: Path, spark_application_crd: Path) -> None:
    """k8s/spark-operator-values.yaml against the operator chart of the same Go module; names match the script."""
    chart = spark_application_crd.parents[1]
    if not (chart / "Chart.yaml").is_file():
        pytest.fail(f"{chart} is not the operator chart (CRD from ../shared?): run `go mod download` with network")
    values = REPO / "k8s" / "spark-operator-values.yaml"
    command = [str(helm), "template", "spark-operator", str(chart), "-n", "spark-operator"]
    command += ["--kube-version", kind_node_version(), "-f", str(values), "--set", "spark.jobNamespaces={twinlake}"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    resources = [d for d in yaml.safe_load_all(done.stdout) if d]
    deployments = {d["metadata"]["name"] for d in resources if d["kind"] == "Deployment"}
    assert deployments == {"spark-operator-controller", "spark-operator-webhook"}
    assert yaml.safe_load((chart / "Chart.yaml").read_text())["version"] == "2.5.2"


def test_kind_config_maps_the_node_ports() -> None:
    config = yaml.safe_load(KIND_CONFIG.read_text(encoding="utf-8"))
    assert config["name"] == "twinlake"
    ports = {m["containerPort"]: (m["hostPort"], m["listenAddress"]) for m in config["nodes"][0]["extraPortMappings"]}
    assert ports[30900] == (9000, "127.0.0.1") and ports[30851] == (8501, "127.0.0.1")


def test_script_is_executable() -> None:
    assert os.access(SCRIPT, os.X_OK)
