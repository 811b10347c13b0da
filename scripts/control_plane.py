"""A real Kubernetes control plane on 127.0.0.1, built from source, for testing the chart against a real API server.

    python scripts/control_plane.py build    # build (first use) or find the pinned binaries; prints where they are
    python scripts/control_plane.py up       # start etcd, kube-apiserver, controller-manager, scheduler, kwok
    python scripts/control_plane.py down     # stop them by PID (the data folder is thrown away at the next `up`)

No containers run: etcd and the Kubernetes control-plane commands are built with Go from the Go module proxy
through the wrapper modules in `scripts/controlplane/<component>/` (each pins its version in go.mod and go.sum),
into `<cache>/controlplane/<component>-<version>/bin` (`<cache>`: `twinlake.settings.cache_dir()`, ~/.cache/twinlake).
A cold build of Kubernetes takes minutes and about 3 GB of memory; afterwards the cached binaries are used as they
are, until the wrapper module changes. The nodes are fake: kwok (sigs.k8s.io/kwok) plays their kubelets, so pods
are scheduled and reported Running (Job pods Succeeded), but no image is pulled and no container runs.

`up` starts from a fresh data folder every time (TWINLAKE_STATE_DIR/control-plane, or --root), on free loopback
ports, and writes `<root>/kubeconfig` (cluster-admin, a static token): `export KUBECONFIG=<root>/kubeconfig`.
The cluster is kind-like: one node `twinlake-node-1`, a default StorageClass `standard` with local
PersistentVolumes on that node, Pod Security admission on, RBAC and Node authorization.
Exit codes: 0 done, 1 something could not be built or started (the message says what and where the log is).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tools

from twinlake.cli import stack
from twinlake.cli.stack import Component, Layout, StackError
from twinlake.settings import LocalSettings, cache_dir, environment, state_dir

WRAPPERS = Path(__file__).resolve().parent / "controlplane"
BUILD_TIMEOUT_S = 3600.0
START_TIMEOUT_S = 90.0
NODE_NAME = "twinlake-node-1"
STORAGE_CLASS = "standard"
LOCAL_VOLUMES = 8
SERVICE_CIDR = "10.96.0.0/16"


class ControlPlaneError(StackError):
    """The control plane could not be built or started; the message says what and where to look."""


# --------------------------------------------------------------------------------------------- builds


@dataclass(frozen=True)
class Build:
    """One wrapper module of scripts/controlplane/ and the binaries it builds (binary name -> Go package)."""

    name: str
    module: str  # the upstream module whose version go.mod pins
    binaries: Mapping[str, str]
    version_ldflags: bool = False  # stamp k8s.io/component-base/version (else the server says v0.0.0-master)

    @property
    def directory(self) -> Path:
        return WRAPPERS / self.name

    def version(self) -> str:
        """The version of `module` that the wrapper's go.mod requires: the single place where it is pinned."""
        text = (self.directory / "go.mod").read_text(encoding="utf-8")
        found = re.search(rf"^\s*(?:require\s+)?{re.escape(self.module)}\s+(v\S+)", text, re.MULTILINE)
        if found is None:
            raise ControlPlaneError(f"{self.directory / 'go.mod'} does not require {self.module}")
        return found.group(1)

    def digest(self) -> str:
        """Hash of the wrapper's sources: a changed go.mod, go.sum or Go file rebuilds."""
        sha = hashlib.sha256()
        for path in sorted(self.directory.rglob("*")):
            if path.is_file() and (path.suffix == ".go" or path.name in ("go.mod", "go.sum")):
                sha.update(str(path.relative_to(self.directory)).encode() + b"\0" + path.read_bytes())
        return sha.hexdigest()

    def bin_dir(self) -> Path:
        return cache_dir() / "controlplane" / f"{self.name}-{self.version()}" / "bin"

    def ldflags(self) -> str:
        flags = ["-s", "-w"]
        if self.version_ldflags:
            major, minor = self.version().removeprefix("v").split(".")[:2]
            pkg = "k8s.io/component-base/version"
            flags += [f"-X {pkg}.gitVersion={self.version()}", f"-X {pkg}.gitMajor={major}"]
            flags += [f"-X {pkg}.gitMinor={minor}", f"-X {pkg}.gitTreeState=clean"]
        return " ".join(flags)


ETCD = Build("etcd", "go.etcd.io/etcd/server/v3", {"etcd": "."})
KUBERNETES = Build(
    "kubernetes",
    "k8s.io/kubernetes",
    {name: f"k8s.io/kubernetes/cmd/{name}" for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")},
    version_ldflags=True,
)
KWOK = Build("kwok", "sigs.k8s.io/kwok", {"kwok": "sigs.k8s.io/kwok/cmd/kwok", "kwok-stages": "./stages"})
SPARK_OPERATOR = Build(
    "spark-operator",
    "github.com/kubeflow/spark-operator/v2",
    {"spark-operator": "github.com/kubeflow/spark-operator/v2/cmd/operator"},
)
CONTROL_PLANE_BUILDS = (ETCD, KUBERNETES, KWOK)
ALL_BUILDS = (*CONTROL_PLANE_BUILDS, SPARK_OPERATOR)


@contextlib.contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    """One build of a component at a time (CI and a developer's test run may both ask for it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def built(build: Build, *, quiet: bool = False) -> Path:
    """The bin folder of `build`, compiled on first use (or after its wrapper module changed)."""
    bin_dir = build.bin_dir()
    marker = bin_dir / ".complete"
    digest = build.digest()
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == digest:
        return bin_dir
    with _build_lock(bin_dir.parent / ".lock"):
        if marker.is_file() and marker.read_text(encoding="utf-8").strip() == digest:
            return bin_dir
        shutil.rmtree(bin_dir, ignore_errors=True)
        bin_dir.mkdir(parents=True)
        env = {
            **os.environ,
            "CGO_ENABLED": "0",
            "GOTOOLCHAIN": "local",  # the machine's Go; never download another toolchain
            # GOMAXPROCS-sized parallelism is too much for a shared 2-core machine: kube-apiserver peaks near 3 GB.
            "GOFLAGS": f"-mod=readonly -trimpath -p={LocalSettings.load().go_build_parallelism}",
        }
        if not quiet:
            print(f"building {build.name} {build.version()} from source (first use only) ...", file=sys.stderr)
        go = stack.require_tool("go", f"build {build.name} {build.version()} (Go >= 1.26)")
        started = time.monotonic()
        for name, package in build.binaries.items():
            command = [go, "build", "-ldflags", build.ldflags(), "-o", str(bin_dir / name), package]
            try:
                done = subprocess.run(
                    command,
                    cwd=build.directory,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=BUILD_TIMEOUT_S,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise ControlPlaneError(f"building {name} took longer than {BUILD_TIMEOUT_S:.0f} s") from exc
            if done.returncode != 0:
                tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-30:])
                raise ControlPlaneError(f"go build of {name} in {build.directory} failed:\n{tail}")
        marker.write_text(digest + "\n", encoding="utf-8")
        if not quiet:
            print(f"built {build.name} in {time.monotonic() - started:.0f} s into {bin_dir}", file=sys.stderr)
    return bin_dir


def binary(build: Build, name: str) -> Path:
    return built(build, quiet=True) / name


# --------------------------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class ControlPlane:
    """A running control plane: where its files are and how to reach it."""

    root: Path
    apiserver_port: int
    etcd_port: int

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.apiserver_port}"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def ca_file(self) -> Path:
        return self.pki / "serving.crt"

    @property
    def layout(self) -> Layout:
        return layout_of(self.root)

    def log(self, component: Component) -> Path:
        return component.log_file(self.layout)


def layout_of(root: Path) -> Layout:
    """PID files in <root>/run, logs in <root>/logs (the local stack's conventions)."""
    return Layout(state=root, cache=cache_dir())


ETCD_PROCESS = Component("etcd", "etcd")
APISERVER = Component("kube-apiserver", "kube-apiserver")
CONTROLLER_MANAGER = Component("kube-controller-manager", "kube-controller-manager")
SCHEDULER = Component("kube-scheduler", "kube-scheduler")
KWOK_PROCESS = Component("kwok", "kwok")
PROCESSES = (ETCD_PROCESS, APISERVER, CONTROLLER_MANAGER, SCHEDULER, KWOK_PROCESS)


def default_root(env: Mapping[str, str]) -> Path:
    return state_dir(env) / "control-plane"


def free_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------------------------- credentials


def _openssl(*args: str) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ControlPlaneError("no `openssl` on PATH: it makes the API server's certificate and keys")
    done = subprocess.run([openssl, *args], capture_output=True, text=True, check=False, timeout=60)
    if done.returncode != 0:
        raise ControlPlaneError(f"openssl {' '.join(args[:2])} failed: {done.stderr.strip()}")


def write_pki(pki: Path) -> None:
    """A self-signed serving certificate for 127.0.0.1 (also the clients' CA) and the service-account key."""
    pki.mkdir(mode=0o700, parents=True)
    names = "IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7",
        "-subj", "/CN=twinlake-control-plane",
        "-addext", f"subjectAltName={names}",
        "-keyout", str(pki / "serving.key"), "-out", str(pki / "serving.crt"),
    )  # fmt: skip
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(pki / "sa.key"))


@dataclass(frozen=True)
class User:
    """A static-token user of the API server."""

    name: str
    groups: tuple[str, ...]
    token: str


def make_users() -> dict[str, User]:
    def user(name: str, *groups: str) -> User:
        return User(name, groups, secrets.token_urlsafe(32))

    return {
        "admin": user("twinlake-admin", "system:masters"),
        "controller-manager": user("system:kube-controller-manager"),
        "scheduler": user("system:kube-scheduler"),
        # kwok plays the kubelet of every fake node: it updates node and pod status cluster-wide.
        "kwok": user("kwok-controller", "system:masters"),
    }


def write_token_file(path: Path, users: Mapping[str, User]) -> None:
    lines = [f'{u.token},{u.name},{u.name},"{",".join(u.groups)}"' for u in users.values()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)


def kubeconfig(server: str, ca_file: Path, user: str, token: str) -> dict[str, Any]:
    """A kubeconfig (as data) for `user` with a bearer token."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "twinlake", "cluster": {"server": server, "certificate-authority": str(ca_file)}}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": "twinlake", "context": {"cluster": "twinlake", "user": user}}],
        "current-context": "twinlake",
    }


def write_kubeconfig(path: Path, config: Mapping[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(dict(config), sort_keys=False), encoding="utf-8")
    path.chmod(0o600)
    return path


# --------------------------------------------------------------------------------------------- processes


def spawn(plane: ControlPlane, component: Component, command: list[str], env: Mapping[str, str] | None = None) -> None:
    """Start a detached process with its PID file and log (the conventions of twinlake/cli/stack/processes.py)."""
    stack.spawn(component, plane.layout, command, stack.child_env(dict(env or {})))


def answers(url: str, ca_file: Path | None = None, token: str | None = None) -> str | None:
    """None if GET `url` answers 200, else why not."""
    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            return None if response.status == 200 else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}: {exc.read().decode(errors='replace')[:300]}"
    except (urllib.error.URLError, OSError) as exc:
        return stack.describe(exc)


def wait_for(plane: ControlPlane, component: Component, probe: Any, timeout: float = START_TIMEOUT_S) -> None:
    try:
        stack.wait_healthy(component, plane.layout, probe, timeout)
    except StackError as exc:
        raise ControlPlaneError(str(exc)) from exc


def start_etcd(plane: ControlPlane) -> None:
    peer = free_port()
    data = plane.root / "etcd"
    command = [
        str(binary(ETCD, "etcd")),
        "--name", "twinlake",
        "--data-dir", str(data),
        "--listen-client-urls", f"http://127.0.0.1:{plane.etcd_port}",
        "--advertise-client-urls", f"http://127.0.0.1:{plane.etcd_port}",
        "--listen-peer-urls", f"http://127.0.0.1:{peer}",
        "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
        "--initial-cluster", f"twinlake=http://127.0.0.1:{peer}",
        "--listen-metrics-urls", f"http://127.0.0.1:{free_port()}",
        "--log-level", "warn",
        # A throw-away test cluster: losing it on a power cut costs nothing, fsync on a shared disk costs seconds.
        "--unsafe-no-fsync",
    ]  # fmt: skip
    spawn(plane, ETCD_PROCESS, command, {"ETCD_UNSUPPORTED_ARCH": ""})
    wait_for(plane, ETCD_PROCESS, lambda: answers(f"http://127.0.0.1:{plane.etcd_port}/health"))


def start_apiserver(plane: ControlPlane) -> None:
    pki = plane.pki
    command = [
        str(binary(KUBERNETES, "kube-apiserver")),
        f"--etcd-servers=http://127.0.0.1:{plane.etcd_port}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={plane.apiserver_port}",
        f"--tls-cert-file={pki / 'serving.crt'}",
        f"--tls-private-key-file={pki / 'serving.key'}",
        f"--token-auth-file={pki / 'tokens.csv'}",
        "--authorization-mode=Node,RBAC",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki / 'sa.key'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        # The default reconciler publishes the advertise address as the `kubernetes` Endpoints, and 127.0.0.1 is
        # not a valid endpoint address; nothing in the cluster dials it (no pod runs).
        "--endpoint-reconciler-type=none",
        f"--cert-dir={pki}",
        "--profiling=false",
    ]
    spawn(plane, APISERVER, command)
    admin = read_token(plane, "admin")
    wait_for(plane, APISERVER, lambda: answers(f"{plane.server}/readyz", plane.ca_file, admin))


def start_controllers(plane: ControlPlane) -> None:
    pki = plane.pki
    common = ["--leader-elect=false", "--secure-port=0"]
    manager = [
        str(binary(KUBERNETES, "kube-controller-manager")),
        f"--kubeconfig={plane.root / 'controller-manager.kubeconfig'}",
        f"--service-account-private-key-file={pki / 'sa.key'}",
        f"--root-ca-file={plane.ca_file}",
        # Each controller acts as its own service account, so RBAC applies to them as in a real cluster.
        "--use-service-account-credentials=true",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        *common,
    ]
    spawn(plane, CONTROLLER_MANAGER, manager)
    scheduler = [
        str(binary(KUBERNETES, "kube-scheduler")),
        f"--kubeconfig={plane.root / 'scheduler.kubeconfig'}",
        *common,
    ]
    spawn(plane, SCHEDULER, scheduler)


def start_kwok(plane: ControlPlane) -> None:
    stages = plane.root / "kwok-stages.yaml"
    done = subprocess.run([str(binary(KWOK, "kwok-stages"))], capture_output=True, text=True, check=True)
    stages.write_text(done.stdout, encoding="utf-8")
    command = [
        str(binary(KWOK, "kwok")),
        f"--kubeconfig={plane.root / 'kwok.kubeconfig'}",
        f"--config={stages}",
        "--manage-all-nodes=true",
        "--node-lease-duration-seconds=40",
        f"--server-address=127.0.0.1:{free_port()}",
    ]
    spawn(plane, KWOK_PROCESS, command)


def read_token(plane: ControlPlane, user: str) -> str:
    config = yaml.safe_load((plane.root / f"{user}.kubeconfig").read_text(encoding="utf-8"))
    token: str = config["users"][0]["user"]["token"]
    return token


# --------------------------------------------------------------------------------------------- the cluster


def node_manifest() -> dict[str, Any]:
    """One fake node, kind-sized: 8 CPUs, 32 GiB, managed by kwok."""
    capacity = {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": NODE_NAME,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": NODE_NAME,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
        "status": {"capacity": capacity, "allocatable": capacity},
    }


def storage_manifests() -> list[dict[str, Any]]:
    """A default StorageClass like kind's `standard`, with static local volumes on the fake node (no provisioner)."""
    storage_class = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": STORAGE_CLASS,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "kubernetes.io/no-provisioner",
        "volumeBindingMode": "WaitForFirstConsumer",
        "reclaimPolicy": "Delete",
    }
    on_node = {
        "required": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [NODE_NAME]}]}
            ]
        }
    }
    volumes = [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": f"local-{i}"},
            "spec": {
                "capacity": {"storage": "20Gi"},
                "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": STORAGE_CLASS,
                "local": {"path": f"/var/lib/twinlake/local-{i}"},
                "nodeAffinity": on_node,
            },
        }
        for i in range(LOCAL_VOLUMES)
    ]
    return [storage_class, *volumes]


def create_cluster_objects(plane: ControlPlane) -> None:
    """The node and the storage, created through the API like any client (kubernetes Python client)."""
    from kubernetes import client, config, utils  # dev dependency: only `up` needs it

    api = config.new_client_from_config(config_file=str(plane.kubeconfig))
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:  # the default namespace and RBAC bootstrap land a moment after /readyz
        try:
            client.CoreV1Api(api).read_namespace("default")
            break
        except client.ApiException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    for manifest in (node_manifest(), *storage_manifests()):
        utils.create_from_dict(api, manifest)
    core = client.CoreV1Api(api)
    while time.monotonic() < deadline:
        node = core.read_node(NODE_NAME)
        ready = [c for c in node.status.conditions or [] if c.type == "Ready"]
        if ready and ready[0].status == "True" and not node.spec.taints:
            return
        time.sleep(0.3)
    raise ControlPlaneError(
        f"node {NODE_NAME} did not become Ready and untainted within {START_TIMEOUT_S:.0f} s: "
        f"see {plane.log(KWOK_PROCESS)} and {plane.log(CONTROLLER_MANAGER)}"
    )


def start(root: Path) -> ControlPlane:
    """Start a fresh control plane in `root` (anything there from an earlier run is stopped and removed)."""
    stop(root)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(mode=0o700, parents=True)
    plane = ControlPlane(root=root, apiserver_port=free_port(), etcd_port=free_port())
    for build in CONTROL_PLANE_BUILDS:
        built(build)
    write_pki(plane.pki)
    users = make_users()
    write_token_file(plane.pki / "tokens.csv", users)
    for role, user in users.items():
        write_kubeconfig(root / f"{role}.kubeconfig", kubeconfig(plane.server, plane.ca_file, user.name, user.token))
    shutil.copyfile(root / "admin.kubeconfig", plane.kubeconfig)
    try:
        with stack.step(f"etcd on 127.0.0.1:{plane.etcd_port}"):
            start_etcd(plane)
        with stack.step(f"kube-apiserver on {plane.server}, wait for /readyz"):
            start_apiserver(plane)
        with stack.step("kube-controller-manager, kube-scheduler, kwok; node Ready"):
            start_controllers(plane)
            start_kwok(plane)
            create_cluster_objects(plane)
    except BaseException:
        stop(root)
        raise
    return plane


def stop(root: Path) -> list[str]:
    """Stop every process of the control plane in `root`, clients first; returns what happened to each."""
    layout = layout_of(root)
    return [f"{c.name:<24} {stack.stop(c, layout)}" for c in reversed(PROCESSES)]


def plane_of(root: Path) -> ControlPlane:
    """The ControlPlane a previous `start(root)` wrote (ports read back from its kubeconfig)."""
    config = yaml.safe_load((root / "kubeconfig").read_text(encoding="utf-8"))
    port = int(config["clusters"][0]["cluster"]["server"].rsplit(":", 1)[1])
    return ControlPlane(root=root, apiserver_port=port, etcd_port=0)


# --------------------------------------------------------------------------------------------- commands


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/control_plane.py", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build", "up", "down"])
    parser.add_argument("--root", type=Path, help="data folder (default: <state dir>/control-plane)")
    parser.add_argument("--spark-operator", action="store_true", help="build: also the spark-operator")
    args = parser.parse_args(argv)
    root = (args.root or default_root(environment())).resolve()
    stack.quiet_client_logs()
    try:
        if args.command == "build":
            for build in (*CONTROL_PLANE_BUILDS, *([SPARK_OPERATOR] if args.spark_operator else [])):
                print(f"{build.name:<16} {build.version():<10} {built(build)}")
        elif args.command == "up":
            started = time.monotonic()
            plane = start(root)
            print(f"control plane up in {time.monotonic() - started:.1f} s: {plane.server}, logs in {root / 'logs'}")
            print(f"  export KUBECONFIG={plane.kubeconfig}")
        else:
            print("\n".join(stop(root)))
    except (StackError, tools.ToolError) as exc:
        print(f"\ncontrol plane {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
