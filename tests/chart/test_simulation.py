"""Local simulation of the cluster: the chart's own commands and environment, run as processes on the local stack.

The chart is rendered with the versitygw switch (the local stack's store). From the render it takes the
store-init Job's command and env, the Pandas worker's command, env and readiness probe, the dashboard's command,
env and health probe, and the SparkApplication's main file, arguments and driver env; it maps the cluster's Service
addresses (kafka:9092, versitygw:7070) to the local stack, each role's credentials Secret (in env or mounted as
files) to the local stack's keys of the same role (`root` to the admin keys), emptyDir mount paths to temporary
folders, and the Spark master to `local[2]` (the only cluster-specific value). The lake's buckets get a unique suffix
so that the run is isolated from other tests on the shared stack; the rendered store-init Job creates them and
grants the roles' accounts on them, so the engines run with least privilege as in the cluster. Then one upload of
the three files (with the uploader's keys, as `make drop`) must produce a run from each engine: both engine pointers
(`<gold>/pandas/latest_run.json`, `<gold>/spark/latest_run.json`) appear within a bounded time; and the dashboard's
command, started as rendered, answers 200 on its health path.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.chart.render import REPO, VERSITYGW_VALUES, by_kind, helm_template, spark_app_root
from twinlake.layout import Engine, engine_pointer
from twinlake.pointer import read_pointer
from twinlake.s3 import s3_client
from twinlake.settings import PREFIX, MissingSetting, Settings, StoreRole
from twinlake.store import S3Store

pytestmark = [pytest.mark.chart, pytest.mark.integration, pytest.mark.slow]
PANDAS_READY_S = 90.0
PANDAS_RUN_S = 180.0
SPARK_RUN_S = 480.0
DASHBOARD_READY_S = 90.0
ROWS = 2000


def secret_role(name: str) -> StoreRole:
    """`store-<role>-credentials` -> the local stack's role with those keys (the chart's `root` is `admin`)."""
    assert name.startswith("store-") and name.endswith("-credentials"), name
    role = name.removeprefix("store-").removesuffix("-credentials")
    return StoreRole.ADMIN if role == "root" else StoreRole(role)


class LocalCluster:
    """Maps what the chart renders for the cluster onto the local stack."""

    def __init__(self, rendered: list[dict[str, Any]], local: Settings, suffix: str, scratch: Path) -> None:
        self.local = local
        self.keys = {role: Settings.load(role=role) for role in StoreRole}
        self.suffix = suffix
        self.scratch = scratch
        self.root = scratch / "fs"  # files the pods get mounted (Secrets as files), at their mount paths
        s3 = urlparse(local.s3_endpoint).netloc
        local_for = {"kafka": local.kafka_bootstrap, "versitygw": s3}
        self.addresses: dict[str, str] = {}
        for service in by_kind(rendered, "Service"):
            name = service["metadata"]["name"]
            for port in service["spec"]["ports"]:
                if name == "dashboard":  # served by the simulation itself, on the port the chart was given
                    self.addresses[f"{name}:{port['port']}"] = f"127.0.0.1:{port['port']}"
                    continue
                assert name in local_for, f"the simulation does not know where Service {name} runs locally"
                self.addresses[f"{name}:{port['port']}"] = local_for[name]
        self.paths: dict[str, str] = {}

    def bucket(self, name: str) -> str:
        return f"{name}-{self.suffix}"

    def mount(self, pod: dict[str, Any], container: dict[str, Any]) -> None:
        """emptyDir mounts become folders under the scratch folder; a mounted credentials Secret becomes the files
        `accessKey` / `secretKey` of the local keys of its role, at its mount path under `self.root`."""
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for m in container.get("volumeMounts", []):
            volume = volumes.get(m["name"], {})
            if "emptyDir" in volume:
                folder = self.scratch / m["name"]
                folder.mkdir(parents=True, exist_ok=True)
                self.paths[m["mountPath"]] = str(folder)
            elif "secret" in volume:
                keys = self.keys[secret_role(volume["secret"]["secretName"])]
                folder = self.root / m["mountPath"].lstrip("/")
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "accessKey").write_text(keys.s3_access_key.get_secret_value())
                (folder / "secretKey").write_text(keys.s3_secret_key.get_secret_value())

    def value(self, text: str) -> str:
        if text.startswith("/") and (self.root / text.lstrip("/")).exists():  # a folder of mounted Secrets
            return str(self.root / text.lstrip("/"))
        for cluster, local in {**self.addresses, **self.paths}.items():
            text = text.replace(cluster, local)
        return text

    def env(self, env: list[dict[str, Any]]) -> dict[str, str]:
        """The process environment: no TWINLAKE_* from this shell or the env file, only what the chart sets."""
        result = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
        result[f"{PREFIX}ENV_FILE"] = os.devnull
        for item in env:
            name = item["name"]
            if "valueFrom" in item:
                ref = item["valueFrom"]["secretKeyRef"]
                keys = self.keys[secret_role(ref["name"])]
                secret = keys.s3_access_key if ref["key"] == "accessKey" else keys.s3_secret_key
                result[name] = secret.get_secret_value()
            else:
                result[name] = self.value(str(item["value"]))
            if name.endswith("_BUCKET"):
                result[name] = self.bucket(result[name])
        return result

    def command(self, command: list[str]) -> list[str]:
        """The command with this venv's python; a server listening on every address listens on 127.0.0.1 here."""
        assert command[0] == "python", command
        return [sys.executable, *("127.0.0.1" if c == "0.0.0.0" else self.value(c) for c in command[1:])]


def _only(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [i for i in items if i["metadata"]["name"].startswith(name)]
    assert len(found) == 1, f"expected one {name}, found {[i['metadata']['name'] for i in items]}"
    return found[0]


def _wait(what: str, seconds: float, check: Any, procs: dict[str, subprocess.Popen[bytes]], logs: Path) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        for name, proc in procs.items():
            if proc.poll() is not None:
                pytest.fail(f"{name} exited {proc.returncode} while waiting for {what}:\n{_tail(logs / name)}")
        time.sleep(2)
    tails = "\n".join(f"--- {n}\n{_tail(logs / n)}" for n in procs)
    pytest.fail(f"{what}: not within {seconds:.0f} s\n{tails}")


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


@pytest.fixture
def suffix() -> Iterator[str]:
    """A unique bucket suffix; afterwards (the engines are stopped by then) its buckets are emptied and removed."""
    value = uuid.uuid4().hex[:8]
    yield value
    try:
        client = s3_client(Settings.load(role=StoreRole.ADMIN))  # the root: only it removes buckets
        for bucket in [b["Name"] for b in client.list_buckets().get("Buckets", [])]:
            if bucket.endswith(f"-{value}"):
                for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                    for item in page.get("Contents", []):
                        client.delete_object(Bucket=bucket, Key=item["Key"])
                client.delete_bucket(Bucket=bucket)
    except Exception as exc:  # best effort: a leftover bucket only costs a little disk on the local stack
        print(f"cleanup of the *-{value} buckets failed: {exc!r}")


@pytest.fixture
def processes() -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    started: dict[str, subprocess.Popen[bytes]] = {}
    yield started
    for proc in started.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in started.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_one_upload_produces_a_run_from_each_engine(
    helm: Path,
    tmp_path: Path,
    suffix: str,
    processes: dict[str, subprocess.Popen[bytes]],
    generated_landing: Callable[..., Path],
) -> None:
    try:
        local = Settings.load(role=StoreRole.ENGINES)
    except MissingSetting as exc:
        pytest.fail(f"the local stack is not configured ({exc}): run `make stack-up`", pytrace=False)
    rendered = helm_template(helm, values=VERSITYGW_VALUES)
    cluster = LocalCluster(rendered, local, suffix, tmp_path / "volumes")
    logs = tmp_path / "logs"
    logs.mkdir()

    # 1. The store-init Job (buckets, then an account per role and the buckets' policies), as rendered.
    init_job = _only(by_kind(rendered, "Job"), "store-init")
    init_pod = init_job["spec"]["template"]["spec"]
    for container in [*init_pod.get("initContainers", []), *init_pod["containers"]]:
        cluster.mount(init_pod, container)
        done = subprocess.run(
            cluster.command(container["command"]),
            env=cluster.env(container["env"]),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"store-init/{container['name']} failed:\n{done.stderr[-3000:]}"

    # 2. The Pandas worker Deployment's container, until its readiness probe passes.
    worker = _only(by_kind(rendered, "Deployment"), "pandas-worker")
    worker_pod = worker["spec"]["template"]["spec"]
    (main,) = worker_pod["containers"]
    cluster.mount(worker_pod, main)
    worker_env = cluster.env(main["env"])
    with open(logs / "pandas-worker", "wb") as log:
        processes["pandas-worker"] = subprocess.Popen(
            cluster.command(main["command"]), env=worker_env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
    readiness = cluster.command(main["readinessProbe"]["exec"]["command"])

    def ready() -> bool:
        return subprocess.run(readiness, env=worker_env, capture_output=True, check=False).returncode == 0

    _wait("the Pandas worker's readiness probe", PANDAS_READY_S, ready, processes, logs)

    # 3. The SparkApplication's driver: its main file (APP_ROOT mapped to this checkout), arguments and env.
    (app,) = by_kind(rendered, "SparkApplication")
    spec = app["spec"]
    main_file = REPO / spec["mainApplicationFile"].removeprefix(f"local://{spark_app_root()}/")
    arguments = [cluster.value(a) for a in spec.get("arguments", [])]
    for bucket in ("landing", "bronze", "silver", "gold"):
        arguments = [a.replace(f"s3a://{bucket}/", f"s3a://{cluster.bucket(bucket)}/") for a in arguments]
    spark_env = cluster.env(spec["driver"]["env"])
    assert spark_env["TWINLAKE_SPARK_MASTER"].startswith("k8s://")
    spark_env["TWINLAKE_SPARK_MASTER"] = "local[2]"
    with open(logs / "spark-engine", "wb") as log:
        processes["spark-engine"] = subprocess.Popen(
            [sys.executable, str(main_file), *arguments], env=spark_env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )

    # 4. One upload of the three files (the producers, as `make drop` runs them).
    data = generated_landing(ROWS, 5, datetime.now(UTC).date())  # the generator's default day: today (UTC)
    upload = [sys.executable, "-m", "producers.upload", str(data), "--no-progress"]
    uploader = cluster.keys[StoreRole.UPLOADER]
    uploader_env = worker_env | {
        f"{PREFIX}S3_ACCESS_KEY": uploader.s3_access_key.get_secret_value(),
        f"{PREFIX}S3_SECRET_KEY": uploader.s3_secret_key.get_secret_value(),
    }
    done = subprocess.run(upload, env=uploader_env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    # 5. Each engine moves its pointer (only a succeeded run does).
    store = S3Store(s3_client(local))
    gold = worker_env["TWINLAKE_GOLD_BUCKET"]

    def pointer(engine: Engine) -> Any:
        found = read_pointer(store, engine_pointer(gold, engine))
        return found[0] if found else None

    pandas_run = _wait("gold/pandas/latest_run.json", PANDAS_RUN_S, lambda: pointer(Engine.PANDAS), processes, logs)
    spark_run = _wait("gold/spark/latest_run.json", SPARK_RUN_S, lambda: pointer(Engine.SPARK), processes, logs)
    print(f"pandas run {pandas_run.run_id}, spark run {spark_run.run_id} in s3://{gold}", flush=True)
    assert pandas_run.run_id and spark_run.run_id


def test_the_dashboard_command_serves_its_health_path(
    helm: Path, tmp_path: Path, processes: dict[str, subprocess.Popen[bytes]]
) -> None:
    """The dashboard container's command, env and emptyDirs as rendered, on a free port: its probe path answers 200."""
    try:
        local = Settings.load(role=StoreRole.DASHBOARD)
    except MissingSetting as exc:
        pytest.fail(f"the local stack is not configured ({exc}): run `make stack-up`", pytrace=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    rendered = helm_template(helm, "--set", f"dashboard.port={port}", values=VERSITYGW_VALUES)
    cluster = LocalCluster(rendered, local, uuid.uuid4().hex[:8], tmp_path / "volumes")
    dashboard = _only(by_kind(rendered, "Deployment"), "dashboard")
    pod = dashboard["spec"]["template"]["spec"]
    (main,) = pod["containers"]
    cluster.mount(pod, main)
    env = cluster.env(main["env"])
    assert env["HOME"].startswith(str(tmp_path)), "HOME is an emptyDir of the pod"
    logs = tmp_path / "logs"
    logs.mkdir()
    with open(logs / "dashboard", "wb") as log:
        processes["dashboard"] = subprocess.Popen(
            cluster.command(main["command"]), env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
        )
    probe = main["readinessProbe"]["httpGet"]
    (container_port,) = [p["containerPort"] for p in main["ports"] if p["name"] == probe["port"]]
    assert container_port == port and main["livenessProbe"]["httpGet"] == probe
    url = f"http://127.0.0.1:{container_port}{probe['path']}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    _wait(f"GET {url} answering 200", DASHBOARD_READY_S, healthy, processes, logs)
    with urllib.request.urlopen(f"http://127.0.0.1:{container_port}/", timeout=5) as page:
        assert page.status == 200 and b"<html" in page.read().lower()
