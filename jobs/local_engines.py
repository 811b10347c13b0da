"""Both engines as local processes on the real event path, as `make demo` and `make bench` run them.

The Pandas worker (`python -m jobs.pandas_engine`) and the Spark streaming job (`python -m jobs.spark_engine`) run
exactly as they would in the cluster, each in a session of its own with its output in a log file. Their PIDs are
recorded in `<state dir>/engines/<engine>.pid`, so a second `make bench` or `make demo` uses engines that are
already running instead of starting a second pair (two Spark queries on one checkpoint would fight), and stops only
the ones it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from twinlake.layout import Engine

ENGINES = (Engine.PANDAS, Engine.SPARK)
READY_TIMEOUT = 240.0  # a Spark session starts in 10-30 s; the first start may also fetch the connector jars
STOP_TIMEOUT = 90.0
READY_LINE = {Engine.PANDAS: "pandas worker consuming", Engine.SPARK: "started: trigger"}
REPO = Path(__file__).resolve().parents[1]
Say = Callable[[str], None]


def command(engine: Engine, checkpoint: Path) -> list[str]:
    if engine == Engine.SPARK:
        return [sys.executable, "-m", "jobs.spark_engine", "--checkpoint", checkpoint.resolve().as_uri()]
    return [sys.executable, "-m", "jobs.pandas_engine"]


def tree_rss_bytes(root: int) -> int:
    """Resident memory of a process and all its descendants (the Spark driver's JVM is a child), from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            statm = (entry / "statm").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(statm.split()[1]) * page
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def pid_file(state: Path, engine: Engine) -> Path:
    return state / "engines" / f"{engine}.pid"


def running_engine_pid(state: Path, engine: Engine) -> int | None:
    """The PID recorded for an engine, if that process is alive and is that engine's entrypoint."""
    try:
        pid = int(pid_file(state, engine).read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if f"jobs.{engine}_engine".encode() in cmdline else None


@dataclass
class LocalEngine:
    """One engine's process: started here (`proc`), or found running (only its PID)."""

    engine: Engine
    pid: int
    log_path: Path | None
    proc: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = None
    state: Path | None = None
    peak_rss: int = 0

    @property
    def started_here(self) -> bool:
        return self.proc is not None

    def exit_code(self) -> int | None:
        """The exit code once the process has ended (-1 for an engine found running that has gone)."""
        if self.proc is not None:
            return self.proc.poll()
        return None if Path(f"/proc/{self.pid}").exists() else -1

    def sample(self) -> None:
        if self.exit_code() is None:
            self.peak_rss = max(self.peak_rss, tree_rss_bytes(self.pid))

    def reset_peak(self) -> None:
        self.peak_rss = 0

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the log, without JVM stack frames."""
        if self.log_path is None or not self.log_path.exists():
            return "(no log: this engine was already running)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join([line for line in text if not line.startswith("\tat ")][-lines:])

    def is_ready(self) -> bool:
        if self.log_path is None:
            return True
        return READY_LINE[self.engine] in self.log_path.read_text(errors="replace")

    def stop(self, say: Say) -> int | None:
        """Stop an engine started here: SIGTERM (a run in progress is let finish), then SIGKILL of its whole
        process group if it hangs. An engine found running is left running."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                say(f"{self.engine} did not stop within {STOP_TIMEOUT:.0f} s: killing it")
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if self.log_file is not None:
            self.log_file.close()
        if self.state is not None:
            pid_file(self.state, self.engine).unlink(missing_ok=True)
        return self.proc.returncode


def start_engine(engine: Engine, logs: Path, checkpoint: Path, state: Path) -> LocalEngine:
    logs.mkdir(parents=True, exist_ok=True)
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{engine}-engine.log"
    log_file = log_path.open("wb")
    proc = subprocess.Popen(
        command(engine, checkpoint),
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    record = pid_file(state, engine)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(f"{proc.pid}\n")
    return LocalEngine(engine, proc.pid, log_path, proc, log_file, state)


def wait_ready(engines: Sequence[LocalEngine], timeout: float = READY_TIMEOUT) -> None:
    """Wait until each engine started here consumes the topic (a Spark session takes seconds to start)."""
    deadline = time.monotonic() + timeout
    pending = [e for e in engines if not e.is_ready()]
    while pending and time.monotonic() < deadline:
        for engine in list(pending):
            engine.sample()
            if engine.is_ready():
                pending.remove(engine)
            elif engine.exit_code() is not None:
                raise RuntimeError(
                    f"the {engine.engine} engine exited ({engine.exit_code()}) while starting; "
                    f"its log ({engine.log_path}) ends with:\n{engine.log_tail()}"
                )
        time.sleep(0.5)
    if pending:
        raise TimeoutError(f"not consuming after {timeout:.0f} s: {', '.join(e.engine for e in pending)}")


@contextlib.contextmanager
def local_engines(logs: Path, checkpoint: Path, state: Path, say: Say) -> Iterator[list[LocalEngine]]:
    """Both engines running while inside: those already running are used as they are, the others are started
    (and waited for) here, and stopped on the way out."""
    engines: list[LocalEngine] = []
    try:
        for engine in ENGINES:
            pid = running_engine_pid(state, engine)
            if pid is not None:
                say(f"the {engine} engine is already running (pid {pid}): using it")
                engines.append(LocalEngine(engine, pid, None))
            else:
                started = start_engine(engine, logs, checkpoint, state)
                say(f"started the {engine} engine, pid {started.pid} (log: {started.log_path})")
                engines.append(started)
        wait_ready(engines)
        yield engines
    finally:
        codes = {e.engine: e.stop(say) for e in engines if e.started_here}
        if codes:
            say("stopped the engines started here: exit codes " + ", ".join(f"{e} {c}" for e, c in codes.items()))
