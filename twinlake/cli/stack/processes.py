"""The local stack's processes: PID files, logs, detached starts and stops, and the timed steps `up` prints."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from twinlake.cli.stack.config import START_MARKER, STOP_TIMEOUT_S, Layout


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
