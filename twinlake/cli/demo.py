"""`make demo` (`twinlake demo`): the whole pipeline on this machine, both engines side by side, and a verdict.

Options are checked first; then the local stack is started (`twinlake stack up`), a data set generated, both
engines started as real processes on the real event topic, exactly as they run in the cluster (the Pandas worker,
`python -m jobs.pandas_engine`, and the Spark Structured Streaming job, `python -m jobs.spark_engine`, checkpoint in
`data/checkpoints/spark-engine`), the files uploaded, and each engine's pointer watched until it names a run of
exactly that input set. Each part uses its own store keys: the engines theirs, the demo the uploader's to clear and
list `landing` and the dashboard's (read-only) to read the lake. Both engines are stopped at the end, and the
summary printed: what each run read, kept and rejected (per dataset and per rule), its KPIs, times and memory,
then the verdict: every Gold table identical between the engines (content hashes, `twinlake.compare`) and the
Silver counts of each equal to the generator's `truth.json`.

Every demo generates a new data set (a fresh seed unless `--seed` is given), so both engines make a new run: an
input set an engine already ran is, by design, never run again.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from jobs.local_engines import LocalEngine, local_engines
from jobs.run_watch import RunSeen, wait_for_runs
from twinlake.catalog import Lake, RunRef
from twinlake.cli.command import ExitCode, new_app
from twinlake.compare import GoldHashes, RunComparison, compare_runs
from twinlake.datasets import DatasetName
from twinlake.inputs import input_fingerprint, list_landing
from twinlake.layout import Engine
from twinlake.manifest import RunManifest
from twinlake.rules import RULES, RuleCode
from twinlake.settings import Settings, StoreRole, environment, state_dir
from twinlake.store import ObjectStore

console = Console(width=None if sys.stdout.isatty() else 110)  # no terminal (e.g. a CI log): wide enough
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Worker:
    """One engine's process (`jobs.local_engines`) and what the demo saw of it."""

    process: LocalEngine
    manifest: RunManifest | None = None
    landed_to_pointer: float | None = None
    problem: str | None = None

    @property
    def engine(self) -> Engine:
        return self.process.engine

    @property
    def peak_rss(self) -> int:
        return self.process.peak_rss


def run_shown(cmd: list[str]) -> None:
    console.print(Text(f"$ {' '.join(cmd)}", style="bold"))
    subprocess.run(cmd, check=True, cwd=REPO)


def clear_landing(store: ObjectStore, settings: Settings) -> None:
    """The demo owns the landing bucket: earlier demo files would otherwise join the input set."""
    store.delete_prefix(settings.landing_bucket, "")


def watch(lake: Lake, workers: list[Worker], fingerprint: str, landed_at: datetime, timeout: float) -> None:
    """Wait (bounded) until every engine has a run of this input set or has exited; report each as it comes."""
    by_engine = {w.engine: w for w in workers}
    last_report = [0.0]

    def on_poll(pending: set[Engine], elapsed: float) -> None:
        for worker in workers:
            worker.process.sample()
        if pending and elapsed - last_report[0] > 30:
            last_report[0] = elapsed
            console.print(f"  waiting for {', '.join(sorted(map(str, pending)))} ({elapsed:.0f} s)")

    def gone(engine: Engine) -> str | None:
        code = by_engine[engine].process.exit_code()
        return None if code is None else f"the {engine} engine exited with code {code} before a run"

    def on_seen(engine: Engine, seen: RunSeen) -> None:
        delay = seen.landed_to_pointer(landed_at)
        after = "" if delay is None else f" ({delay:.1f} s after the upload finished)"
        console.print(f"{engine}: run {seen.manifest.run_id} {seen.manifest.status}{after}")

    outcome = wait_for_runs(lake, list(by_engine), fingerprint, timeout, on_poll=on_poll, gone=gone, on_seen=on_seen)
    for engine, result in outcome.items():
        worker = by_engine[engine]
        if isinstance(result, RunSeen):
            worker.manifest, worker.landed_to_pointer = result.manifest, result.landed_to_pointer(landed_at)
        else:
            worker.problem = result
            console.print(Text(result, style="red"))


# -- the summary ---------------------------------------------------------------------------------------------


def kpi_global(lake: Lake, manifest: RunManifest) -> dict[str, Any]:
    from twinlake.tables import read_table

    rows = read_table(lake.store, lake.layout(RunRef(manifest.engine, manifest.run_id)).gold("kpi_global")).to_pylist()
    return dict(rows[0]) if rows else {}


def number(value: object) -> str:
    """Counts with thousands separators, money (exact decimals) with two places: 21,449,701.78."""
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def mib(n: int | None) -> str:
    return "?" if not n else f"{n / 2**20:,.0f} MiB"


def summary_table(lake: Lake, workers: list[Worker]) -> Table:
    """One column per engine: what each run read, kept and rejected, its KPIs, its time and its memory."""
    table = Table(title="twinlake: one input set, two engines", show_lines=True)
    table.add_column("", style="bold")
    for worker in workers:
        table.add_column(str(worker.engine), justify="right")

    def row(label: str, cell: Callable[[Worker], str]) -> None:
        table.add_row(label, *(cell(w) for w in workers))

    def from_run(get: Callable[[RunManifest], str]) -> Callable[[Worker], str]:
        """A cell from the engine's run: its problem if it has no run, `-` if the run failed."""

        def cell(w: Worker) -> str:
            if w.manifest is None:
                return f"[red]{w.problem or 'no run'}[/red]"
            return get(w.manifest) if w.manifest.succeeded else "[red]-[/red]"

        return cell

    def status(w: Worker) -> str:
        if w.manifest is None:
            return f"[red]{w.problem}[/red]"
        return "[green]succeeded[/green]" if w.manifest.succeeded else f"[red]failed: {w.manifest.error}[/red]"

    def counts(name: DatasetName) -> Callable[[RunManifest], str]:
        def get(m: RunManifest) -> str:
            c = m.datasets.get(name)
            return "-" if c is None else f"{c.rows_in:,} / {c.rows_clean:,} / {c.rows_rejected:,}"

        return get

    def kpi(key: str) -> Callable[[Worker], str]:
        return lambda w: number(kpis[w.engine][key]) if w.engine in kpis else "-"

    def seconds(m: RunManifest) -> str:
        return (
            " / ".join(f"{getattr(m.seconds, x):.1f}" for x in ("bronze", "silver", "gold", "total"))
            if m.seconds
            else "?"
        )

    row("run", lambda w: w.manifest.run_id if w.manifest else "-")
    row("status", status)
    for name in DatasetName:
        row(f"{name}: rows in / clean / rejected", from_run(counts(name)))
    kpis = {w.engine: kpi_global(lake, w.manifest) for w in workers if w.manifest and w.manifest.succeeded}
    for key in next(iter(kpis.values()), {}):
        row(f"kpi_global {key}", kpi(key))
    row("seconds bronze / silver / gold / total", from_run(seconds))
    row("peak memory of the run (Python)", from_run(lambda m: mib(m.peak_memory_bytes)))
    row("peak memory, process tree (JVM incl.)", lambda w: mib(w.peak_rss))
    row(
        "landed to pointer",
        lambda w: f"{w.landed_to_pointer:.1f} s" if w.landed_to_pointer is not None and w.manifest else "-",
    )
    return table


# -- the verdict ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SilverCount:
    """One Silver count of a dataset (`rows in`, `clean`, `rejected` or a rule code): each run's, and the truth."""

    dataset: DatasetName
    what: str
    runs: dict[Engine, int | None]
    truth: int | None

    @property
    def equal(self) -> bool:
        return all(n == self.truth for n in self.runs.values())


def _counts(
    rows_in: int, clean: int, rejected: int, by_rule: Mapping[str, int] | Mapping[RuleCode, int]
) -> dict[str, int]:
    return {"rows in": rows_in, "clean": clean, "rejected": rejected, **{str(code): n for code, n in by_rule.items()}}


def silver_against_truth(runs: list[RunManifest], truth: dict[str, Any]) -> list[SilverCount]:
    """Every Silver count of every run beside truth.json: the totals, then each rule that rejected a row anywhere."""
    found = []
    for name in DatasetName:
        expected = truth["datasets"].get(str(name))
        wanted = (
            {}
            if expected is None
            else _counts(
                expected["rows_written"],
                expected["rows_clean"],
                expected["rows_rejected"],
                expected["rejected_by_rule"],
            )
        )
        got = {}
        for m in runs:
            c = m.datasets.get(name)
            got[m.engine] = {} if c is None else _counts(c.rows_in, c.rows_clean, c.rows_rejected, c.rejected_by_rule)
        rules = [str(rule.code) for rule in RULES[name]]
        for what in ("rows in", "clean", "rejected", *rules):
            values = {engine: counts.get(what, 0 if what in rules else None) for engine, counts in got.items()}
            truth_value = wanted.get(what, 0 if what in rules and wanted else None)
            if what in rules and not truth_value and not any(values.values()):
                continue  # a rule that rejected no row, in any run nor in the truth
            found.append(SilverCount(name, what, values, truth_value))
    return found


def silver_table(counts: list[SilverCount], engines: list[Engine]) -> Table:
    table = Table(
        title="Silver: rows of each dataset, and rows rejected per rule, against truth.json", title_justify="left"
    )
    table.add_column("dataset")
    table.add_column("rows")
    for engine in engines:
        table.add_column(str(engine), justify="right")
    table.add_column("truth.json", justify="right")
    table.add_column("")
    for c in counts:
        mark = "[green]equal[/green]" if c.equal else "[red]DIFFERENT[/red]"
        table.add_row(str(c.dataset), c.what, *(number(c.runs[e]) for e in engines), number(c.truth), mark)
    table.caption = "A row may fail several rules; rules that rejected no row anywhere are left out."
    return table


def gold_table(comparison: RunComparison) -> Table:
    a, b = comparison.a.engine, comparison.b.engine
    table = Table(title=f"Gold, table by table: {a} and {b}", title_justify="left")
    table.add_column("table")
    table.add_column(f"{a} rows", justify="right")
    table.add_column(f"{b} rows", justify="right")
    table.add_column("content")
    for t in comparison.tables:
        same = "[green]identical[/green]" if t.identical else "[red]DIFFERENT[/red]"
        table.add_row(t.table, number(t.rows_a), number(t.rows_b), same)
    return table


def verdict(lake: Lake, found: list[RunManifest | None], truth: dict[str, Any]) -> bool:
    """Print Silver against the truth and Gold table by table (two runs); True when they agree and equal the truth."""
    runs = [m for m in found if m is not None and m.succeeded]
    if len(runs) < len(found):
        console.print(Text("VERDICT: not every engine made a successful run; nothing to compare.", style="bold red"))
        return False
    silver = silver_against_truth(runs, truth)
    console.print(silver_table(silver, [m.engine for m in runs]))
    comparison = compare_runs(GoldHashes(lake), runs[0], runs[1])
    console.print(gold_table(comparison))
    silver_ok, gold_ok = all(c.equal for c in silver), comparison.identical
    tables = len(comparison.tables)
    if silver_ok and gold_ok:
        message = (
            f"VERDICT: the engines agree. All {tables} Gold tables identical (content hashes); "
            "Silver of both equal to truth.json, count by count."
        )
        console.print(Text(message, style="bold green"))
        return True
    problems = []
    if not gold_ok:
        different = comparison.differing_tables + comparison.differing_counts
        problems.append(f"Gold differs ({', '.join(different)})")
    if not silver_ok:
        problems.append(
            "Silver differs from truth.json (" + ", ".join(f"{c.dataset} {c.what}" for c in silver if not c.equal) + ")"
        )
    console.print(Text("VERDICT: DIFFERENT. " + "; ".join(problems) + ".", style="bold red"))
    return False


# -- the command ---------------------------------------------------------------------------------------------

app = new_app()


@app.command("demo")
def demo(
    rows: Annotated[int, typer.Option("--rows", min=1, metavar="ROWS", help="Data rows per file.")] = 1_000_000,
    out: Annotated[Path, typer.Option("--out", help="Where the CSVs and truth.json are written.")] = Path(
        "data/generated"
    ),
    seed: Annotated[
        int | None, typer.Option("--seed", show_default=False, help="Generator seed; default a new one every demo.")
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Longest wait for both runs after the upload, in seconds.")
    ] = 1800,
    checkpoint: Annotated[Path, typer.Option("--checkpoint", help="The Spark query's checkpoint folder.")] = Path(
        "data/checkpoints/spark-engine"
    ),
) -> None:
    """The whole pipeline on this machine: stack up, generate, upload, both engines, the summary and a verdict.

    Starts the local stack, generates ROWS rows per dataset (a new seed each time), starts the Pandas worker and
    the Spark streaming job as real processes, uploads the files, and waits until each engine's pointer names a
    run of those files. Then it prints, per engine: rows in / clean / rejected and the rows rejected per rule for
    each dataset, kpi_global, seconds per layer and memory; and the verdict: every Gold table identical between
    the engines, and each engine's Silver counts equal to the generator's truth.json. Engine logs go to
    data/logs/ENGINE-engine.log. Exit code 1 when an engine failed or the verdict is not an agreement.
    """
    from twinlake.cli import stack as local_stack
    from twinlake.reach import require
    from twinlake.s3 import s3_client
    from twinlake.store import S3Store

    local_stack.quiet_client_logs()
    local_stack.cmd_up(environment())
    settings = Settings.load(role=StoreRole.DASHBOARD)  # reads the lake
    uploader = Settings.load(role=StoreRole.UPLOADER)  # clears and lists landing
    require(settings, buckets=[settings.gold_bucket, settings.silver_bucket], topics=[settings.events_topic])
    require(uploader, buckets=[uploader.landing_bucket])
    lake = Lake(S3Store(s3_client(settings)), settings.lake)
    landing = S3Store(s3_client(uploader))
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    run_shown([sys.executable, "-m", "producers.generate", "--rows", str(rows), "--seed", str(seed), "--out", str(out)])
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    clear_landing(landing, uploader)
    workers: list[Worker] = []
    try:
        with local_engines(REPO / "data" / "logs", checkpoint, state_dir(), console.print) as engines:
            workers = [Worker(engine) for engine in engines]
            run_shown([sys.executable, "-m", "producers.upload", str(out)])
            landed_at = datetime.now(UTC)
            fingerprint = input_fingerprint(list_landing(landing, uploader.landing_bucket))
            console.print(f"input set {fingerprint[:6]} uploaded; waiting for both engines (at most {timeout:.0f} s)")
            watch(lake, workers, fingerprint, landed_at, timeout)
    except (RuntimeError, TimeoutError) as exc:
        console.print(Text(str(exc), style="red"))
        for worker in workers:
            worker.problem = worker.problem or str(exc)

    console.print(summary_table(lake, workers))
    for worker in workers:
        if worker.manifest is not None:
            layout = lake.layout(RunRef(worker.engine, worker.manifest.run_id))
            console.print(f"{worker.engine}: {layout.gold_prefix.uri()} (its Gold tables and _manifest.json)")
        if worker.manifest is None or not worker.manifest.succeeded:
            log = worker.process.log_path or "its log"
            console.print(Text(f"{worker.engine} failed; last lines of {log}:", style="red"))
            console.print(Text(worker.process.log_tail()))
    latest = lake.pointer()
    if latest is not None:
        console.print(f"gold/latest_run.json names the {latest.engine} run {latest.run_id} (the newer by start time)")
    agree = verdict(lake, [w.manifest for w in workers], truth)
    console.print(
        "Look further: `twinlake runs`, `twinlake show`, `twinlake rejects purchases`, `twinlake diff pandas spark`"
    )
    if not agree:
        raise typer.Exit(ExitCode.NO)
