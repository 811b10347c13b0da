"""The local twinlake stack: Apache Kafka (one KRaft node) and versitygw (S3 over a local directory).

    python scripts/stack.py up       # install on first use, start what is not running, create topics/buckets
    python scripts/stack.py down     # stop both processes (data is kept); idempotent
    python scripts/stack.py status   # pid, alive, port, answering, log of each; exit 0 only if all healthy

Everything listens on 127.0.0.1 and runs as plain detached processes tracked by PID files:

* Kafka 4.1.1 from its own jars on Maven Central (`stack/pom.xml`, resolved once with `mvn` into
  `<cache>/kafka-4.1.1/libs`), started as `java kafka.Kafka server.properties` after a one-time
  `kafka.tools.StorageTool format --standalone`. Ports: TWINLAKE_KAFKA_PORT (9092) for clients,
  TWINLAKE_KAFKA_CONTROLLER_PORT (9093) for the KRaft controller.
* versitygw v1.7.0 (`go install` into `<cache>/versitygw-v1.7.0/bin`), posix backend, publishing bucket
  notifications to the events topic. Port: TWINLAKE_S3_PORT (7070). It sends a test event to Kafka when it
  starts and refuses to start without the broker, so Kafka and the topics come first.

`<cache>` is TWINLAKE_CACHE_DIR (default `~/.cache/twinlake`); data, logs, PID files and the env file live in
`twinlake.settings.state_dir()`. The env file (`twinlake.settings.env_file_path()`, mode 0600) holds the
endpoints, topic names and the S3 credentials, generated on the first `up` and reused afterwards; precedence
for every value is: environment variable, then env file, then default.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from twinlake.settings import Settings, env_file_path, read_env_file, state_dir

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

KAFKA_VERSION = "4.1.1"
VERSITYGW_VERSION = "v1.7.0"
VERSITYGW_MODULE = "github.com/versity/versitygw/cmd/versitygw"
MIN_JAVA = 17
EVENTS_PARTITIONS = 3
DEAD_LETTER_PARTITIONS = 1
KAFKA_HEAP = ["-Xms128m", "-Xmx512m"]

STOP_TIMEOUT_S = 20.0
KAFKA_START_TIMEOUT_S = 120.0
S3_START_TIMEOUT_S = 30.0
ALREADY_RUNNING_TIMEOUT_S = 30.0  # a process we did not just start may still be coming up
PROBE_TIMEOUT_S = 8.0
LOCK_TIMEOUT_S = 300.0
INSTALL_TIMEOUT_S = 1200.0

REPO_ROOT = Path(__file__).resolve().parent.parent
STACK_DIR = REPO_ROOT / "stack"
POM = STACK_DIR / "pom.xml"
SERVER_PROPERTIES_TEMPLATE = STACK_DIR / "server.properties.template"
LOG4J2_CONFIG = STACK_DIR / "log4j2.xml"

START_MARKER = "===== stack.py"  # written to a log before each start, so errors show only the latest run
T = TypeVar("T")


class StackError(RuntimeError):
    """Something the user must fix (or look at) before the stack can run; the message says what."""


# --------------------------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Layout:
    """Where things live on disk."""

    state: Path
    cache: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Layout:
        default_cache = Path(env.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))) / "twinlake"
        return cls(state=state_dir(env), cache=Path(env.get("TWINLAKE_CACHE_DIR", str(default_cache))))

    @property
    def kafka_libs(self) -> Path:
        return self.cache / f"kafka-{KAFKA_VERSION}" / "libs"

    @property
    def kafka_libs_marker(self) -> Path:
        return self.kafka_libs / ".complete"

    @property
    def versitygw_bin(self) -> Path:
        return self.cache / f"versitygw-{VERSITYGW_VERSION}" / "bin" / "versitygw"

    @property
    def kafka_data(self) -> Path:
        return self.state / "kafka" / "data"

    @property
    def kafka_properties(self) -> Path:
        return self.state / "kafka" / "server.properties"

    @property
    def s3_data(self) -> Path:
        return self.state / "s3-data"

    @property
    def s3_sidecar(self) -> Path:
        return self.state / "s3-meta"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def run(self) -> Path:
        return self.state / "run"


@dataclass(frozen=True)
class StackConfig:
    """Ports, topics and credentials of the stack, as written to the env file."""

    kafka_port: int
    controller_port: int
    s3_port: int
    region: str
    events_topic: str
    dead_letter_topic: str
    access_key: str
    secret_key: str

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def env_lines(self) -> dict[str, str]:
        return {
            "TWINLAKE_S3_ENDPOINT": self.s3_endpoint,
            "TWINLAKE_S3_ACCESS_KEY": self.access_key,
            "TWINLAKE_S3_SECRET_KEY": self.secret_key,
            "TWINLAKE_S3_REGION": self.region,
            "TWINLAKE_KAFKA_BOOTSTRAP": self.bootstrap,
            "TWINLAKE_EVENTS_TOPIC": self.events_topic,
            "TWINLAKE_DEAD_LETTER_TOPIC": self.dead_letter_topic,
            # Not Settings fields: kept so that `status`/`down` find a stack started on non-default ports.
            "TWINLAKE_KAFKA_PORT": str(self.kafka_port),
            "TWINLAKE_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "TWINLAKE_S3_PORT": str(self.s3_port),
        }


def _default(field: str) -> str:
    return str(Settings.model_fields[field].default)


def _port(values: Mapping[str, str], name: str, default: int) -> int:
    raw = values.get(name, "") or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise StackError(f"{name}={raw!r} is not a TCP port (1-65535)")
    return int(raw)


def load_config(env: Mapping[str, str]) -> StackConfig:
    """Merge environment > env file > defaults. Credentials stay empty if neither has them."""
    values = {**read_env_file(env_file_path(env)), **{k: v for k, v in env.items() if v}}
    return StackConfig(
        kafka_port=_port(values, "TWINLAKE_KAFKA_PORT", 9092),
        controller_port=_port(values, "TWINLAKE_KAFKA_CONTROLLER_PORT", 9093),
        s3_port=_port(values, "TWINLAKE_S3_PORT", 7070),
        region=values.get("TWINLAKE_S3_REGION", _default("s3_region")),
        events_topic=values.get("TWINLAKE_EVENTS_TOPIC", _default("events_topic")),
        dead_letter_topic=values.get("TWINLAKE_DEAD_LETTER_TOPIC", _default("dead_letter_topic")),
        access_key=values.get("TWINLAKE_S3_ACCESS_KEY", ""),
        secret_key=values.get("TWINLAKE_S3_SECRET_KEY", ""),
    )


def with_credentials(config: StackConfig) -> StackConfig:
    """The config itself if it has credentials, else a copy with freshly generated ones (first `up`)."""
    if config.access_key and config.secret_key:
        return config
    return replace(config, access_key="twinlake-" + secrets.token_hex(6), secret_key=secrets.token_urlsafe(30))


def write_env_file(path: Path, config: StackConfig) -> None:
    """Write the env file atomically with mode 0600 (it holds the S3 secret)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "# Written by `make stack-up` (scripts/stack.py): the local twinlake stack. Local-only secrets.\n"
    body += "".join(f"{key}={value}\n" for key, value in config.env_lines().items())
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(body)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------- prerequisites


def require_java(env: Mapping[str, str]) -> str:
    """Path of a Java >= 17 (JAVA_HOME first, then PATH), or a StackError saying what is missing."""
    java_home = env.get("JAVA_HOME", "")
    candidate = Path(java_home) / "bin" / "java" if java_home else None
    java = str(candidate) if candidate and candidate.is_file() else shutil.which("java")
    if java is None:
        raise StackError(
            f"no `java` found (JAVA_HOME unset or invalid, none on PATH): Kafka {KAFKA_VERSION} needs "
            f"Java {MIN_JAVA}+ (e.g. `apt-get install openjdk-17-jre-headless`)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if match is None:
        raise StackError(f"could not read the version of {java}: {(out.stderr or out.stdout).strip()}")
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0_..." style
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise StackError(
            f"{java} is Java {major}; Kafka {KAFKA_VERSION} needs Java {MIN_JAVA}+ (set JAVA_HOME to a newer JDK/JRE)"
        )
    return java


def require_tool(name: str, purpose: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise StackError(f"no `{name}` on PATH: it is needed once, to {purpose}")
    return path


def ports_in_use(ports: Mapping[str, int]) -> list[str]:
    """Describe each port of `ports` (label -> port) that something else already listens on."""
    busy = []
    for label, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                busy.append(f"{label} port {port} is already taken by another process{port_owner(port)}")
    return busy


def port_owner(port: int) -> str:
    """Best effort ` (pid 123: java)` for whoever listens on `port`."""
    ss = shutil.which("ss")
    if ss is None:
        return ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            [ss, "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
        match = re.search(r'users:\(\("([^"]+)",pid=(\d+)', out)
        if match:
            return f" (pid {match.group(2)}: {match.group(1)})"
    return ""


# --------------------------------------------------------------------------------------------- installation


def _run_installer(cmd: list[str], what: str, env: Mapping[str, str] | None = None) -> None:
    try:
        out = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
            env=None if env is None else dict(env),
        )
    except subprocess.TimeoutExpired as exc:
        raise StackError(f"{what} took longer than {INSTALL_TIMEOUT_S:.0f} s: {' '.join(cmd)}") from exc
    if out.returncode != 0:
        tail = "\n".join((out.stdout + out.stderr).strip().splitlines()[-30:])
        raise StackError(f"{what} failed (exit {out.returncode}): {' '.join(cmd)}\n{tail}")


def pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def kafka_libs_ready(layout: Layout) -> bool:
    marker = layout.kafka_libs_marker
    return marker.is_file() and marker.read_text(encoding="utf-8").strip() == pom_digest()


def install_kafka_libs(layout: Layout) -> None:
    """Resolve the broker's jars from Maven Central into the cache; the marker records the pom's digest."""
    mvn = require_tool("mvn", f"download Kafka {KAFKA_VERSION}'s jars from Maven Central")
    shutil.rmtree(layout.kafka_libs, ignore_errors=True)
    layout.kafka_libs.mkdir(parents=True)
    cmd = [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies"]
    _run_installer([*cmd, f"-DoutputDirectory={layout.kafka_libs}"], f"resolving Kafka {KAFKA_VERSION}")
    if not any(layout.kafka_libs.glob(f"kafka_2.13-{KAFKA_VERSION}.jar")):
        raise StackError(f"mvn succeeded but {layout.kafka_libs} has no kafka_2.13-{KAFKA_VERSION}.jar")
    layout.kafka_libs_marker.write_text(pom_digest() + "\n", encoding="utf-8")


def install_versitygw(layout: Layout) -> None:
    go = require_tool("go", f"build versitygw {VERSITYGW_VERSION} (`go install`)")
    layout.versitygw_bin.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(layout.versitygw_bin.parent)}
    cmd = [go, "install", f"{VERSITYGW_MODULE}@{VERSITYGW_VERSION}"]
    _run_installer(cmd, f"building versitygw {VERSITYGW_VERSION}", env)


# --------------------------------------------------------------------------------------------- processes


@dataclass(frozen=True)
class Component:
    """A process of the stack: how to recognise it, where its PID file and log are."""

    name: str
    cmdline_marker: str  # a substring of /proc/<pid>/cmdline, guards against recycled PIDs

    def pid_file(self, layout: Layout) -> Path:
        return layout.run / f"{self.name}.pid"

    def log_file(self, layout: Layout) -> Path:
        return layout.logs / f"{self.name}.log"


KAFKA = Component("kafka", "kafka.Kafka")
VERSITYGW = Component("versitygw", "versitygw")


def pid_alive(pid: int) -> bool:
    """True if `pid` runs (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rpartition(")")[2].split()[0] != "Z"
    return True


def pid_is(pid: int, component: Component) -> bool:
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.parent.exists():
        return True  # no procfs: trust the PID file
    with contextlib.suppress(OSError):
        return component.cmdline_marker in cmdline.read_bytes().decode(errors="replace")
    return False


def read_pid(component: Component, layout: Layout) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(component.pid_file(layout).read_text().strip())
    return None


def running_pid(component: Component, layout: Layout) -> int | None:
    """The PID of the component if it runs; a stale PID file (process gone or PID reused) is removed."""
    pid = read_pid(component, layout)
    if pid is None:
        return None
    if pid_alive(pid) and pid_is(pid, component):
        return pid
    component.pid_file(layout).unlink(missing_ok=True)
    return None


def spawn(component: Component, layout: Layout, cmd: list[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start detached (own session), stdout+stderr appended to the component's log, PID file written."""
    layout.logs.mkdir(parents=True, exist_ok=True)
    layout.run.mkdir(parents=True, exist_ok=True)
    log_path = component.log_file(layout)
    with log_path.open("ab") as log:
        log.write(f"\n{START_MARKER} {time.strftime('%Y-%m-%d %H:%M:%S')} starts {component.name}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=layout.state,
            env=dict(env),
            start_new_session=True,
        )
    component.pid_file(layout).write_text(f"{proc.pid}\n")
    return proc


def log_tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines the latest start wrote to the log `path`, indented for an error message."""
    with contextlib.suppress(OSError):
        text = path.read_text(encoding="utf-8", errors="replace").rpartition(START_MARKER)[2].splitlines()
        return "\n".join(f"    | {line}" for line in text[-lines:])
    return "    | (no log)"


def stop(component: Component, layout: Layout) -> str:
    """SIGTERM, wait up to STOP_TIMEOUT_S, then SIGKILL. Returns what happened."""
    pid = read_pid(component, layout)
    if pid is None:
        return "not running"
    if running_pid(component, layout) is None:
        return f"not running (removed stale PID file for {pid})"
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.2)
    how = "stopped"
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        how = f"killed (no exit {STOP_TIMEOUT_S:.0f} s after SIGTERM)"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.1)
    component.pid_file(layout).unlink(missing_ok=True)
    return f"{how} (pid {pid})"


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child: ours, without settings that would silently reconfigure it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VGW_", "ROOT_", "KAFKA_"))}
    env.update(extra or {})
    return env


# --------------------------------------------------------------------------------------------- health probes


def call_with_timeout(fn: Callable[[], T], timeout: float) -> T:
    """Run `fn` in a daemon thread; raise TimeoutError if it has not returned after `timeout` seconds."""
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {timeout:.0f} s")
    if error:
        raise error[0]
    return result[0]


def describe(exc: BaseException) -> str:
    name, text = type(exc).__name__, str(exc)
    return name if text in ("", name) else f"{name}: {text}"


@contextlib.contextmanager
def kafka_admin(bootstrap: str) -> Iterator[KafkaAdminClient]:
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="twinlake-stack",
        request_timeout_ms=5000,
        api_version_auto_timeout_ms=3000,
        reconnect_backoff_max_ms=1000,
    )
    try:
        yield admin
    finally:
        admin.close()


def kafka_problem(bootstrap: str) -> str | None:
    """None if the broker answers a metadata request, else why not."""

    def list_topics() -> list[str]:
        with kafka_admin(bootstrap) as admin:
            return list(admin.list_topics())

    try:
        call_with_timeout(list_topics, PROBE_TIMEOUT_S)
    except (KafkaError, OSError, TimeoutError) as exc:
        return describe(exc)
    return None


def s3_client(config: StackConfig) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=config.s3_endpoint,
        aws_access_key_id=config.access_key,
        aws_secret_access_key=config.secret_key,
        region_name=config.region,
        config=BotoConfig(
            s3={"addressing_style": "path"},
            connect_timeout=2,
            read_timeout=5,
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )


def s3_problem(config: StackConfig) -> str | None:
    """None if the store answers ListBuckets with our credentials, else why not."""
    try:
        call_with_timeout(lambda: s3_client(config).list_buckets(), PROBE_TIMEOUT_S)
    except ClientError as exc:
        return f"answers, but {exc.response.get('Error', {}).get('Code', 'error')}: {exc}"
    except (BotoCoreError, OSError, TimeoutError) as exc:
        return describe(exc)
    return None


def wait_healthy(
    component: Component,
    layout: Layout,
    probe: Callable[[], str | None],
    timeout: float,
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll `probe` until it reports no problem; fail early if the process dies, with its log's tail."""
    deadline = time.monotonic() + timeout
    problem: str | None = "not probed"
    while time.monotonic() < deadline:
        pid = proc.pid if proc else read_pid(component, layout)
        exited = proc.poll() is not None if proc else (pid is None or not pid_alive(pid))
        if exited:
            component.pid_file(layout).unlink(missing_ok=True)
            code = f" with code {proc.returncode}" if proc else ""
            log = component.log_file(layout)
            raise StackError(f"{component.name} exited early{code}; last lines of {log}:\n{log_tail(log)}")
        problem = probe()
        if problem is None:
            return
        time.sleep(0.5)
    log = component.log_file(layout)
    raise StackError(
        f"{component.name} did not answer within {timeout:.0f} s (last error: {problem}); it is still "
        f"running, see {log} or run `make stack-down`. Last lines:\n{log_tail(log)}"
    )


# --------------------------------------------------------------------------------------------- kafka


def render_server_properties(layout: Layout, config: StackConfig) -> None:
    template = string.Template(SERVER_PROPERTIES_TEMPLATE.read_text(encoding="utf-8"))
    text = template.substitute(
        kafka_port=config.kafka_port,
        controller_port=config.controller_port,
        log_dirs=str(layout.kafka_data),
    )
    layout.kafka_properties.parent.mkdir(parents=True, exist_ok=True)
    layout.kafka_properties.write_text(text, encoding="utf-8")


def java_command(java: str, layout: Layout, main_class: str, *args: str) -> list[str]:
    return [
        java,
        *KAFKA_HEAP,
        "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={LOG4J2_CONFIG}",
        "-cp",
        f"{layout.kafka_libs}/*",
        main_class,
        *args,
    ]


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes in URL-safe base64, unpadded (like `kafka-storage random-uuid`)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


def format_kafka_storage(java: str, layout: Layout) -> None:
    """Format the KRaft log dir (first start only): a dynamic quorum with this node as its only voter."""
    layout.kafka_data.mkdir(parents=True, exist_ok=True)
    args = ["format", "-t", new_cluster_id(), "-c", str(layout.kafka_properties), "--standalone"]
    cmd = java_command(java, layout, "kafka.tools.StorageTool", *args)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, env=child_env())
    if out.returncode != 0:
        raise StackError(f"formatting Kafka storage failed:\n{(out.stdout + out.stderr).strip()}")


def start_kafka(java: str, layout: Layout, config: StackConfig) -> None:
    busy = ports_in_use({"Kafka": config.kafka_port, "Kafka controller": config.controller_port})
    if busy:
        raise StackError("; ".join(busy) + " (set TWINLAKE_KAFKA_PORT / TWINLAKE_KAFKA_CONTROLLER_PORT)")
    render_server_properties(layout, config)
    if not (layout.kafka_data / "meta.properties").is_file():
        with step("format Kafka storage (first start)"):
            format_kafka_storage(java, layout)
    with step("start Kafka and wait for metadata"):
        cmd = java_command(java, layout, "kafka.Kafka", str(layout.kafka_properties))
        proc = spawn(KAFKA, layout, cmd, child_env())
        wait_healthy(KAFKA, layout, lambda: kafka_problem(config.bootstrap), KAFKA_START_TIMEOUT_S, proc)


def ensure_topics(config: StackConfig) -> None:
    """Create the events and dead-letter topics if missing; fail if one has another partition count."""
    wanted = {config.events_topic: EVENTS_PARTITIONS, config.dead_letter_topic: DEAD_LETTER_PARTITIONS}

    def create_and_describe() -> dict[str, int]:
        with kafka_admin(config.bootstrap) as admin:
            existing = set(admin.list_topics())
            missing = [NewTopic(t, n, 1) for t, n in wanted.items() if t not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics(missing, timeout_ms=10_000)
            deadline = time.monotonic() + 15
            while True:
                counts = {
                    str(t["topic"]): len(t["partitions"])
                    for t in admin.describe_topics(list(wanted))
                    if t["error_code"] == 0
                }
                if set(counts) == set(wanted) or time.monotonic() > deadline:
                    return counts
                time.sleep(0.3)

    counts = call_with_timeout(create_and_describe, 40)
    for topic, partitions in wanted.items():
        if topic not in counts:
            raise StackError(f"topic {topic} still not visible after creating it")
        if counts[topic] != partitions:
            raise StackError(
                f"topic {topic} exists with {counts[topic]} partitions, the stack needs exactly "
                f"{partitions}: delete it (or the state dir) and run `make stack-up` again"
            )


# --------------------------------------------------------------------------------------------- versitygw


def supports_xattrs(directory: Path) -> bool:
    """versitygw's posix backend keeps object metadata in user xattrs; probe that the filesystem has them."""
    name = "user.twinlake_probe"
    try:
        os.setxattr(directory, name, b"1")
        os.removexattr(directory, name)
    except OSError:
        return False
    return True


def start_versitygw(layout: Layout, config: StackConfig) -> None:
    busy = ports_in_use({"S3": config.s3_port})
    if busy:
        raise StackError("; ".join(busy) + " (set TWINLAKE_S3_PORT)")
    layout.s3_data.mkdir(parents=True, exist_ok=True)
    backend = ["posix"]
    if not supports_xattrs(layout.s3_data):
        layout.s3_sidecar.mkdir(parents=True, exist_ok=True)
        backend += ["--sidecar", str(layout.s3_sidecar)]
        print(f"      (no xattrs on {layout.s3_data}: metadata goes to {layout.s3_sidecar})", end="")
    cmd = [
        str(layout.versitygw_bin),
        "--port",
        f"127.0.0.1:{config.s3_port}",
        "--region",
        config.region,
        "--quiet",
        "--event-kafka-url",
        config.bootstrap,
        "--event-kafka-topic",
        config.events_topic,
        *backend,
        str(layout.s3_data),
    ]
    # Credentials through the environment, not argv: argv is visible to every user in `ps`.
    env = child_env({"ROOT_ACCESS_KEY_ID": config.access_key, "ROOT_SECRET_ACCESS_KEY": config.secret_key})
    proc = spawn(VERSITYGW, layout, cmd, env)
    wait_healthy(VERSITYGW, layout, lambda: s3_problem(config), S3_START_TIMEOUT_S, proc)


def ensure_buckets(config: StackConfig, buckets: tuple[str, ...]) -> None:
    client = s3_client(config)
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", []) if "Name" in b}
    for bucket in buckets:
        if bucket in existing:
            continue
        try:
            client.create_bucket(Bucket=bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {
                "BucketAlreadyOwnedByYou",
                "BucketAlreadyExists",
            }:
                raise


def bucket_names(env: Mapping[str, str]) -> tuple[str, ...]:
    values = {**read_env_file(env_file_path(env)), **env}
    fields = ("landing_bucket", "bronze_bucket", "silver_bucket", "gold_bucket")
    return tuple(values.get(f"TWINLAKE_{f.upper()}") or _default(f) for f in fields)


# --------------------------------------------------------------------------------------------- commands


@contextlib.contextmanager
def step(label: str) -> Iterator[None]:
    """Print `label`, run the block, print its duration."""
    print(f"  - {label} ...", end="", flush=True)
    start = time.monotonic()
    try:
        yield
    except BaseException:
        print(" FAILED", flush=True)
        raise
    print(f" {time.monotonic() - start:.1f} s", flush=True)


def preflight(layout: Layout, env: Mapping[str, str], kafka_running: bool) -> str | None:
    """Check every prerequisite this `up` will need before doing anything; returns the java to use."""
    problems: list[str] = []
    java: str | None = None
    if not kafka_running:
        try:
            java = require_java(env)
        except StackError as exc:
            problems.append(str(exc))
    if not kafka_libs_ready(layout) and shutil.which("mvn") is None:
        problems.append(f"no `mvn` on PATH: it is needed once, to download Kafka {KAFKA_VERSION}'s jars")
    if not os.access(layout.versitygw_bin, os.X_OK) and shutil.which("go") is None:
        problems.append(f"no `go` on PATH: it is needed once, to build versitygw {VERSITYGW_VERSION}")
    if problems:
        raise StackError("missing prerequisite(s):\n  " + "\n  ".join(problems))
    return java


@contextlib.contextmanager
def exclusive(layout: Layout) -> Iterator[None]:
    """Serialise `up`/`down` (e.g. several `make test` at once): hold a lock file under the run dir."""
    layout.state.mkdir(mode=0o700, parents=True, exist_ok=True)
    layout.run.mkdir(parents=True, exist_ok=True)
    with (layout.run / "stack.lock").open("w") as handle:
        deadline, told = time.monotonic() + LOCK_TIMEOUT_S, False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StackError(f"another stack.py held {handle.name} for {LOCK_TIMEOUT_S:.0f} s") from None
                if not told:
                    print("  (waiting for another stack.py up/down to finish)", flush=True)
                    told = True
                time.sleep(0.5)
        yield


def check_already_running(component: Component, pid: int, layout: Layout, probe: Callable[[], str | None]) -> None:
    with step(f"{component.name} already running (pid {pid}), check it answers"):
        if (problem := probe()) and problem.startswith("answers, but"):
            raise StackError(
                f"{component.name} (pid {pid}) {problem}: it runs with other credentials than the env file; "
                "restart it with `make stack-down && make stack-up`"
            )
        wait_healthy(component, layout, probe, ALREADY_RUNNING_TIMEOUT_S)


def cmd_up(env: Mapping[str, str]) -> int:
    layout = Layout.from_env(env)
    with exclusive(layout):
        return up(layout, env)


def up(layout: Layout, env: Mapping[str, str]) -> int:
    started = time.monotonic()
    config = with_credentials(load_config(env))
    kafka_pid, s3_pid = running_pid(KAFKA, layout), running_pid(VERSITYGW, layout)
    java = preflight(layout, env, kafka_running=kafka_pid is not None)
    print(f"twinlake stack up (state {layout.state}, cache {layout.cache})")

    if not kafka_libs_ready(layout):
        with step(f"resolve Kafka {KAFKA_VERSION} jars with Maven into {layout.kafka_libs}"):
            install_kafka_libs(layout)
    if not os.access(layout.versitygw_bin, os.X_OK):
        with step(f"go install versitygw {VERSITYGW_VERSION} into {layout.versitygw_bin.parent}"):
            install_versitygw(layout)
    write_env_file(env_file_path(env), config)

    if kafka_pid is None:
        assert java is not None
        start_kafka(java, layout, config)
    else:
        check_already_running(KAFKA, kafka_pid, layout, lambda: kafka_problem(config.bootstrap))
    with step(f"topics {config.events_topic} ({EVENTS_PARTITIONS}p), {config.dead_letter_topic} (1p)"):
        ensure_topics(config)

    if s3_pid is None:
        with step("start versitygw and wait for ListBuckets"):
            start_versitygw(layout, config)
    else:
        check_already_running(VERSITYGW, s3_pid, layout, lambda: s3_problem(config))
    buckets = bucket_names(env)
    with step(f"buckets {', '.join(buckets)}"):
        ensure_buckets(config, buckets)

    print(f"stack up in {time.monotonic() - started:.1f} s")
    print(f"  Kafka  {config.bootstrap}   logs {KAFKA.log_file(layout)}")
    print(f"  S3     {config.s3_endpoint}   logs {VERSITYGW.log_file(layout)}")
    print(f"  env    {env_file_path(env)}")
    return 0


def cmd_down(env: Mapping[str, str]) -> int:
    layout = Layout.from_env(env)
    with exclusive(layout):
        for component in (VERSITYGW, KAFKA):  # the gateway publishes to Kafka: stop it first
            print(f"  {component.name:<10} {stop(component, layout)}")
    return 0


def cmd_status(env: Mapping[str, str]) -> int:
    layout = Layout.from_env(env)
    config = load_config(env)
    known = bool(config.access_key and config.secret_key)
    probes: list[tuple[Component, str, Callable[[], str | None]]] = [
        (
            KAFKA,
            f"{config.kafka_port} (controller {config.controller_port})",
            lambda: kafka_problem(config.bootstrap),
        ),
        (
            VERSITYGW,
            str(config.s3_port),
            lambda: s3_problem(config) if known else "no credentials in env file",
        ),
    ]
    healthy = True
    for component, port, probe in probes:
        pid = running_pid(component, layout)
        problem = probe() if pid is not None else "not running"
        healthy &= problem is None
        print(
            f"{component.name:<10} pid {pid or '-':<8} alive {'yes' if pid else 'no ':<4} port {port:<24} "
            f"answering {'yes' if problem is None else 'no (' + problem + ')'}"
        )
        print(f"{'':<10} log {component.log_file(layout)}")
    print(f"env file   {env_file_path(env)}{'' if known else ' (missing: run `make stack-up`)'}")
    return 0 if healthy else 1


def quiet_client_logs() -> None:
    """kafka-python logs every refused connection while the broker starts; our messages say what matters."""
    for name in ("kafka", "botocore", "urllib3"):
        logger = logging.getLogger(name)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args(argv)
    quiet_client_logs()
    commands = {"up": cmd_up, "down": cmd_down, "status": cmd_status}
    try:
        return commands[args.command](os.environ)
    except StackError as exc:
        print(f"\nstack {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
