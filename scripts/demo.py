"""`make demo`: generate the three CSVs, upload them, let both engines pick up the events, print their summaries.

The stack is started by the Makefile (`stack-up`) before this script. Both engines run as real processes on the
real event topic, exactly as they would in the cluster: the Pandas worker (`python -m jobs.pandas_engine`) and the
Spark Structured Streaming job (`python -m jobs.spark_engine`, checkpoint in `data/checkpoints/spark-engine`). This
script only uploads, then watches the store for each engine's pointer, and stops both engines at the end.

Every demo generates a new data set (a fresh seed unless `--seed` is given), so both engines make a new run: an
input set an engine already ran is, by design, never run again.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.table import Table

from jobs.pandas_engine.tables import read_table
from twinlake.datasets import DatasetName
from twinlake.inputs import input_fingerprint, list_landing
from twinlake.layout import Engine, Location, RunLayout, engine_pointer, global_pointer
from twinlake.manifest import RunManifest, read_manifest
from twinlake.pointer import read_pointer
from twinlake.s3 import s3_client
from twinlake.settings import Settings
from twinlake.store import ObjectStore, S3Store

console = Console(width=None if sys.stdout.isatty() else 110)  # no terminal (e.g. a CI log): wide enough
REPO = Path(__file__).resolve().parent.parent
ENGINES = (Engine.PANDAS, Engine.SPARK)
READY_TIMEOUT = 240.0  # a Spark session starts in 10-30 s; the first start may also fetch the connector jars
STOP_TIMEOUT = 90.0
READY_LINE = {Engine.PANDAS: "pandas worker consuming", Engine.SPARK: "started: trigger"}


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


@dataclass
class Worker:
    """One engine's process, its log, and what the demo saw of it."""

    engine: Engine
    proc: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]
    peak_rss: int = 0
    manifest: RunManifest | None = None
    landed_to_pointer: float | None = None
    problem: str | None = None

    def sample(self) -> None:
        if self.proc.poll() is None:
            self.peak_rss = max(self.peak_rss, tree_rss_bytes(self.proc.pid))

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the log, without JVM stack frames."""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join([line for line in text if not line.startswith("\tat ")][-lines:])

    def stop(self) -> int | None:
        """SIGTERM (a run in progress is let finish), then SIGKILL of the whole process group if it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                console.print(f"[yellow]{self.engine} did not stop within {STOP_TIMEOUT:.0f} s: killing it[/yellow]")
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log_file.close()
        return self.proc.returncode


def run(cmd: list[str]) -> None:
    console.print(f"[bold]$ {' '.join(cmd)}[/bold]")
    subprocess.run(cmd, check=True, cwd=REPO)


def clear_landing(store: ObjectStore, settings: Settings) -> None:
    """The demo owns the landing bucket: earlier demo files would otherwise join the input set."""
    store.delete_prefix(settings.landing_bucket, "")


def start(engine: Engine, logs: Path, checkpoint: Path) -> Worker:
    log_path = logs / f"{engine}-engine.log"
    log_file = log_path.open("wb")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        command(engine, checkpoint),
        cwd=REPO,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    console.print(f"started the {engine} engine, pid {proc.pid} (log: {log_path})")
    return Worker(engine, proc, log_path, log_file)


def wait_ready(workers: list[Worker], timeout: float) -> None:
    """Wait until each engine consumes the topic (a Spark session takes seconds to start)."""
    deadline = time.monotonic() + timeout
    pending = {w.engine for w in workers}
    while pending and time.monotonic() < deadline:
        for worker in workers:
            if worker.engine in pending:
                worker.sample()
                if READY_LINE[worker.engine] in worker.log_path.read_text(errors="replace"):
                    pending.discard(worker.engine)
                elif worker.proc.poll() is not None:
                    raise RuntimeError(f"the {worker.engine} engine exited ({worker.proc.returncode}) while starting")
        time.sleep(0.5)
    if pending:
        raise TimeoutError(f"not consuming after {timeout:.0f} s: {', '.join(pending)}")


def run_of(store: ObjectStore, settings: Settings, engine: Engine, fingerprint: str) -> RunManifest | None:
    """The engine's run of exactly this input set: the one its pointer names, or a failed one."""
    found = read_pointer(store, engine_pointer(settings.gold_bucket, engine))
    if found is not None:
        manifest = read_manifest(store, Location(settings.gold_bucket, found[0].manifest))
        if manifest.input_fingerprint == fingerprint:
            return manifest
    for obj in store.list(settings.gold_bucket, f"{engine}/"):
        if obj.key.endswith(f"-{fingerprint[:6]}/_manifest.json"):
            manifest = read_manifest(store, Location(settings.gold_bucket, obj.key))
            if manifest.input_fingerprint == fingerprint and not manifest.succeeded:
                return manifest
    return None


def wait_for_runs(
    store: ObjectStore, settings: Settings, workers: list[Worker], fingerprint: str, landed: float, timeout: float
) -> None:
    """Watch every engine until it has a run of this input set, has exited, or the time is up (bounded)."""
    deadline = landed + timeout
    pending = list(workers)
    last_report = time.monotonic()
    while pending and time.monotonic() < deadline:
        for worker in list(pending):
            worker.sample()
            manifest = run_of(store, settings, worker.engine, fingerprint)
            if manifest is not None:
                worker.manifest, worker.landed_to_pointer = manifest, time.monotonic() - landed
                pending.remove(worker)
                console.print(
                    f"{worker.engine}: run {manifest.run_id} {manifest.status} "
                    f"({worker.landed_to_pointer:.1f} s after the upload finished)"
                )
            elif worker.proc.poll() is not None:
                worker.problem = f"the {worker.engine} engine exited with code {worker.proc.returncode} before a run"
                pending.remove(worker)
                console.print(f"[red]{worker.problem}[/red]")
        if pending and time.monotonic() - last_report > 30:
            last_report = time.monotonic()
            console.print(f"  waiting for {', '.join(w.engine for w in pending)} ({time.monotonic() - landed:.0f} s)")
        time.sleep(0.5)
    for worker in pending:
        worker.problem = f"no {worker.engine} run of the uploaded files within {timeout:.0f} s"
        console.print(f"[red]{worker.problem}[/red]")


def kpi_global(store: ObjectStore, settings: Settings, manifest: RunManifest) -> dict[str, object]:
    layout = RunLayout(settings.lake, manifest.engine, manifest.run_id)
    try:
        rows = read_table(store, layout.gold("kpi_global")).to_pylist()
    except (FileNotFoundError, OSError) as exc:
        return {"error": str(exc)}
    return dict(rows[0]) if rows else {}


def mib(n: int | None) -> str:
    return "?" if not n else f"{n / 2**20:,.0f} MiB"


def summary_table(store: ObjectStore, settings: Settings, workers: list[Worker]) -> Table:
    """One column per engine: what each run read, kept and rejected, its KPIs, its time and its memory."""
    table = Table(title="twinlake: one input set, two engines", show_lines=True)
    table.add_column("", style="bold")
    for worker in workers:
        table.add_column(str(worker.engine), justify="right")

    def row(label: str, cell: Callable[[Worker], object]) -> None:
        table.add_row(label, *(str(cell(w)) for w in workers))

    def from_manifest(get: Callable[[RunManifest], object]) -> Callable[[Worker], object]:
        """A cell from the engine's manifest: its problem if it has no run, `-` if the run failed."""

        def cell(w: Worker) -> object:
            if w.manifest is None:
                return f"[red]{w.problem or 'no run'}[/red]"
            return get(w.manifest) if w.manifest.succeeded else "[red]-[/red]"

        return cell

    row("run", lambda w: w.manifest.run_id if w.manifest else "-")
    row(
        "status",
        lambda w: (
            ("[green]succeeded[/green]" if w.manifest.succeeded else f"[red]failed: {w.manifest.error}[/red]")
            if w.manifest
            else f"[red]{w.problem}[/red]"
        ),
    )

    def dataset_rows(name: DatasetName) -> Callable[[RunManifest], str]:
        def get(m: RunManifest) -> str:
            c = m.datasets.get(name)
            return "-" if c is None else f"{c.rows_in:,}\n{c.rows_clean:,}\n{c.rows_rejected:,}"

        return get

    for name in DatasetName:
        row(f"{name}\nin / clean / rejected", from_manifest(dataset_rows(name)))

    def top_rules(m: RunManifest) -> str:
        totals: dict[str, int] = {}
        for counts in m.datasets.values():
            for code, n in counts.rejected_by_rule.items():
                totals[code] = totals.get(code, 0) + n
        top = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:5]
        return "\n".join(f"{code} {n:,}" for code, n in top if n) or "-"

    row("top reject rules", from_manifest(top_rules))
    kpis = {w.engine: kpi_global(store, settings, w.manifest) for w in workers if w.manifest and w.manifest.succeeded}
    keys = next(iter(kpis.values()), {}).keys()

    def kpi(key: str) -> Callable[[Worker], object]:
        return lambda w: kpis[w.engine].get(key, "-") if w.engine in kpis else "-"

    def layer_seconds(layer: str) -> Callable[[RunManifest], str]:
        return lambda m: f"{getattr(m.seconds, layer):.1f}" if m.seconds else "?"

    for key in keys:
        row(f"kpi_global.{key}", kpi(key))
    for layer in ("bronze", "silver", "gold", "total"):
        row(f"seconds {layer}", from_manifest(layer_seconds(layer)))
    row("peak memory of the run\n(Python process)", from_manifest(lambda m: mib(m.peak_memory_bytes)))
    row("peak memory, sampled\n(process tree, JVM incl.)", lambda w: mib(w.peak_rss))
    row(
        "landed-to-pointer",
        lambda w: f"{w.landed_to_pointer:.1f} s" if w.landed_to_pointer is not None and w.manifest else "-",
    )
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", default="data/generated")
    parser.add_argument("--seed", type=int, default=None, help="generator seed (default: a new one every demo)")
    parser.add_argument("--timeout", type=float, default=1800, help="longest wait for both runs, in seconds")
    parser.add_argument("--checkpoint", default="data/checkpoints/spark-engine", help="the Spark query's checkpoint")
    args = parser.parse_args()

    settings = Settings.load()
    store = S3Store(s3_client(settings))
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    run([sys.executable, "-m", "producers.generate", "--rows", str(args.rows), "--seed", str(seed), "--out", args.out])
    clear_landing(store, settings)
    logs = Path(os.environ.get("TWINLAKE_DEMO_LOGS", REPO / "data" / "logs"))
    logs.mkdir(parents=True, exist_ok=True)
    checkpoint = Path(args.checkpoint)
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    workers: list[Worker] = []
    try:
        for engine in ENGINES:
            workers.append(start(engine, logs, checkpoint))
        wait_ready(workers, READY_TIMEOUT)
        run([sys.executable, "-m", "producers.upload", args.out])
        landed = time.monotonic()
        fingerprint = input_fingerprint(list_landing(store, settings.landing_bucket))
        console.print(f"input set {fingerprint[:6]} uploaded; waiting for both engines (at most {args.timeout:.0f} s)")
        wait_for_runs(store, settings, workers, fingerprint, landed, args.timeout)
    except (RuntimeError, TimeoutError) as exc:
        console.print(f"[red]{exc}[/red]")
        for worker in workers:
            worker.problem = worker.problem or str(exc)
    finally:
        codes = {w.engine: w.stop() for w in workers}
        console.print("stopped both engines: exit codes " + ", ".join(f"{e} {c}" for e, c in codes.items()))

    console.print(summary_table(store, settings, workers))
    latest = read_pointer(store, global_pointer(settings.gold_bucket))
    if latest is not None:
        pointer = latest[0]
        console.print(
            f"gold/latest_run.json names the [bold]{pointer.engine}[/bold] run {pointer.run_id} "
            f"(the newer run by start time): {pointer.gold_prefix}"
        )
    for worker in workers:
        if worker.manifest is not None:
            layout = RunLayout(settings.lake, worker.engine, worker.manifest.run_id)
            console.print(f"{worker.engine}: Gold tables {layout.gold_prefix.uri()}   manifest {layout.manifest.uri()}")
        if worker.manifest is None or not worker.manifest.succeeded:
            console.print(f"[red]{worker.engine} failed[/red]; last lines of {worker.log_path}:\n{worker.log_tail()}")
    ok = all(w.manifest is not None and w.manifest.succeeded for w in workers)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
