"""Engines as real processes for the tests that run them on the local stack (integration, chart, fault suite)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[1]
STOP_TIMEOUT = 60.0


class EngineProcess:
    """One engine entrypoint as a child process (own session, so its whole tree can be killed), output in a log."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.args = [sys.executable, "-m", *args]
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> EngineProcess:
        assert self.proc is None or self.proc.poll() is not None, f"{self.name} is already running"
        self._log = self.log_path.open("ab")
        self._log.write(f"\n==== start {' '.join(self.args)}\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            self.args, cwd=REPO, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM the entrypoint (only it: the graceful path), wait; kill its process group if it hangs."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._close_log()
        return self.proc.returncode

    def kill(self) -> None:
        """`kill -9` of the entrypoint and everything it started (the Spark driver's JVM included)."""
        assert self.proc is not None and self.proc.poll() is None, f"{self.name} is not running"
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} still running after {timeout:.0f} s; log:\n{self.log_tail()}") from None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


def engine_env(as_of: date, **overrides: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TWINLAKE_REFERENCE_DATE": as_of.isoformat()}
    env.update(overrides)
    return env


def wait_until(
    what: str, check: Callable[[], bool], timeout: float, *procs: EngineProcess, every: float = 1.0
) -> float:
    """Poll `check` until true; fail early if one of `procs` died. Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        for proc in procs:
            if not proc.running():
                raise AssertionError(f"{proc.name} exited while waiting for {what}; log:\n{proc.log_tail()}")
        time.sleep(every)
    tails = "\n".join(f"--- {p.name}:\n{p.log_tail()}" for p in procs)
    raise AssertionError(f"not within {timeout:.0f} s: {what}\n{tails}")


def wait_for_log(proc: EngineProcess, text: str, timeout: float, after: int = 0, every: float = 1.0) -> None:
    wait_until(f"{proc.name} to log {text!r}", lambda: text in proc.log_text()[after:], timeout, proc, every=every)
