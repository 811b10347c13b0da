"""The local stack's prerequisites (Java, tools, free ports) and its first-use installs (Kafka's jars, versitygw)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Mapping

from twinlake.cli.stack.config import (
    INSTALL_TIMEOUT_S,
    KAFKA_VERSION,
    MIN_JAVA,
    POM,
    VERSITYGW_MODULE,
    VERSITYGW_VERSION,
    Layout,
    StackError,
)
from twinlake.settings import (
    LocalSettings,
)


def require_java(env: Mapping[str, str]) -> str:
    """Path of a Java >= 17 (JAVA_HOME first, then PATH), or a StackError saying what is missing."""
    java_home = LocalSettings.load(env).java_home
    candidate = java_home / "bin" / "java" if java_home else None
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
