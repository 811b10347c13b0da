"""scripts/cluster.sh (make up/down/drop): static checks, and its prerequisite messages without a cluster."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
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


# ------------------------------------------------------------------------------ the script's functions, with stubs
# The functions are sourced (everything before the final `case`) and called with stub tools on PATH that record
# their arguments, so the checks run without docker, kind or a cluster.


def _functions(tmp_path: Path) -> Path:
    text = SCRIPT.read_text(encoding="utf-8")
    path = tmp_path / "scripts" / "cluster-functions.sh"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text[: text.index('case "${1:-}" in')], encoding="utf-8")
    return path


def _call(tmp_path: Path, body: str, stubs: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run `body` after sourcing the functions; each stub is a bash body; returns the run and the stubs' calls."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir(exist_ok=True)
    log.write_text("")
    for name, stub in stubs.items():
        path = bin_dir / name
        path.write_text(f'#!/usr/bin/env bash\necho "{name} $*" >> "{log}"\n{stub}\n', encoding="utf-8")
        path.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "HELM": str(bin_dir / "helm")}
    script = f'source "{_functions(tmp_path)}"\n{body}'
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=False, timeout=60)
    return done, log.read_text().splitlines()


@pytest.mark.parametrize(
    ("version", "ok"), [("v0.33.0", True), ("v0.32.9", False), ("v0.40.1-alpha.3+abc", True), ("v1.0.0", True)]
)
def test_version_comparison(tmp_path: Path, version: str, ok: bool) -> None:
    done, _ = _call(tmp_path, f"version_at_least {version} 0.33.0", {})
    assert (done.returncode == 0) is ok


@pytest.mark.parametrize(("version", "ok"), [("v0.32.0", False), ("v0.33.0", True), ("v0.34.2", True)])
def test_kind_older_than_the_pinned_node_image_is_refused(tmp_path: Path, version: str, ok: bool) -> None:
    done, _ = _call(tmp_path, "check_kind; report_problems up", {"kind": f'echo "kind {version} go1.25.1 linux/amd64"'})
    assert (done.returncode == 0) is ok, done.stderr
    if not ok:
        assert f"kind {version} is too old" in done.stderr and "v0.33.0 or newer" in done.stderr


@pytest.mark.parametrize(("version", "ok"), [("v2.17.0", False), ("v3.19.0", True), ("v4.0.1", True), ("", False)])
def test_only_helm_3_or_4_is_accepted(tmp_path: Path, version: str, ok: bool) -> None:
    done, _ = _call(tmp_path, "find_helm; report_problems up", {"helm": f'[[ "$1" == version ]] && echo "{version}"'})
    assert (done.returncode == 0) is ok, done.stderr
    if not ok:
        assert "Helm 3 or 4 is needed" in done.stderr


def test_up_reports_every_missing_prerequisite_at_once(tmp_path: Path) -> None:
    stubs = {
        "docker": "exit 1",  # installed, but the daemon does not answer
        "kind": 'echo "kind v0.30.0 go1.25.1 linux/amd64"',
        "helm": '[[ "$1" == version ]] && echo "v2.17.0"',
    }
    tools = tmp_path / "tools"  # the shell tools the script uses, and no kubectl
    tools.mkdir()
    for tool in ("bash", "awk", "sed", "head", "cut", "dirname", "grep", "cat"):
        found = shutil.which(tool)
        assert found
        (tools / tool).symlink_to(found)
    body = f'PATH="$(dirname "$HELM"):{tools}"; check_prerequisites; echo reached'
    done, _ = _call(tmp_path, body, stubs)
    assert done.returncode == 1 and "reached" not in done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 4, done.stderr
    assert "Docker daemon does not answer" in errors[0]
    assert "kind v0.30.0 is too old" in errors[1]
    assert "`kubectl` is not on PATH" in errors[2]
    assert "Helm 3 or 4 is needed" in errors[3]
    assert "4 prerequisite(s) missing or too old: fix them and run `make up` again" in done.stderr


def test_drop_says_the_cluster_is_down_without_kubectls_own_errors(tmp_path: Path) -> None:
    kubectl = (
        'echo "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host?" >&2; exit 1'
    )
    body = f'PY="{sys.executable}"; cmd_drop'
    done, _ = _call(tmp_path, body, {"kubectl": kubectl})
    assert done.returncode == 1
    assert "is the cluster up (make up)?" in done.stderr
    assert "connection to the server" not in done.stderr


def test_host_ports_must_be_free_before_the_cluster_is_created(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken, socket.socket() as free:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        free.bind(("127.0.0.1", 0))  # bound, not listening: nobody answers there
        busy, idle = taken.getsockname()[1], free.getsockname()[1]
        done, _ = _call(tmp_path, f'HOST_PORTS="{idle} {busy}"; check_host_ports', {})
        assert done.returncode == 1 and f"port(s) {busy} on 127.0.0.1 are already in use" in done.stderr
        done, _ = _call(tmp_path, f'HOST_PORTS="{idle}"; check_host_ports', {})
        assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("pending-upgrade", "rollback"),
        ("pending-rollback", "rollback"),
        ("pending-install", "uninstall"),
        ("deployed", None),
    ],
)
def test_a_release_left_pending_is_recovered(tmp_path: Path, status: str, action: str | None) -> None:
    history = f'[{{"revision":2,"updated":"2026-12-01T06:00:00Z","status":"{status}","chart":"twinlake-0.1.0"}}]'
    stub = f"[[ \" $* \" == *' history '* ]] && echo '{history}'; exit 0"
    done, calls = _call(tmp_path, "recover_release twinlake twinlake", {"helm": stub})
    assert done.returncode == 0, done.stderr
    assert all("--kube-context kind-twinlake" in c for c in calls), calls
    acted = [c for c in calls if " rollback " in c or " uninstall " in c]
    assert acted == ([] if action is None else [next(c for c in calls if f" {action} twinlake " in c)])


@pytest.mark.parametrize("kind_fails", [False, True])
def test_creating_the_cluster_gives_the_user_their_context_back(tmp_path: Path, kind_fails: bool) -> None:
    stubs = {
        "kubectl": '[[ "$*" == "config current-context" ]] && echo my-own-context; exit 0',
        "kind": "exit 1" if kind_fails else "exit 0",
    }
    done, calls = _call(tmp_path, 'HOST_PORTS=""; create_cluster', stubs)
    assert (done.returncode != 0) is kind_fails, done.stderr
    assert calls[-1] == "kubectl config use-context my-own-context", calls


def test_image_load_falls_back_to_a_streamed_single_platform_archive(tmp_path: Path) -> None:
    stubs = {
        "kind": '[[ "$2" == docker-image ]] && exit 1; [[ "$3" == /dev/stdin ]] && echo "read $(cat)" >> "$CALLS"',
        "docker": '[[ "$1" == version ]] && echo arm64; [[ "$1" == save ]] && printf ARCHIVE; exit 0',
    }
    body = f'export CALLS="{tmp_path / "calls.log"}"; load_image twinlake/spark:abc'
    done, calls = _call(tmp_path, body, stubs)
    assert done.returncode == 0, done.stderr
    assert "docker save --platform linux/arm64 twinlake/spark:abc" in calls
    assert "kind load image-archive /dev/stdin --name twinlake" in calls and "read ARCHIVE" in calls


def test_every_cluster_call_names_the_kind_context_and_no_temporary_archive_is_left() -> None:
    text = SCRIPT.read_text(encoding="utf-8")
    code = [line.split(" #")[0] for line in text.splitlines() if not line.lstrip().startswith("#")]
    for line in code:
        allowed = re.search(r"kubectl (config|version|--context)|^kc\(\)|need kubectl", line)
        if re.search(r"(^\s*|\$\(|\|\s*|&&\s*|;\s*)kubectl\s", line) and not allowed:  # kubectl as a command
            pytest.fail(f"kubectl without --context: {line.strip()}")
        if re.search(r'^\s*"\$HELM" (?!repo|version|--kube-context)', line):
            pytest.fail(f"helm without --kube-context: {line.strip()}")
    assert "use-context" in text.split("restore_context() {")[1].split("\n}")[0]
    assert text.count("use-context") == 1, "the only context switch is giving the user's context back"
    assert "--suffix" not in text and "mktemp" not in text
