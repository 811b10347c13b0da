"""The benchmark of the deployed engines: a sweep of drops, each timed from its upload to each engine's pointer,
verified against the other engine and the DuckDB reference, written to the lake with a pointer to the newest.

One drop: generate (or reuse) the three files of a scale and seed, empty landing, upload them through the project's
uploader under keys of this drop alone (`<dataset>/bench-<bench_id>-<rows>-<repeat>.csv`, so every drop is an input
set no engine has run), wait (bounded) until each engine's pointer names a run of exactly that input set, then run
the DuckDB reference on the same files in this process (after the engines, so it never shares the cores with them)
and verify. Landing is copied aside first and restored at the end, however the benchmark ends.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from secrets import token_hex
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from jobs.benchmark.data import DEFAULT_SEED, csv_files, drop_seed, ensure_data
from jobs.benchmark.landing import Interrupted, LandingNotRestored, SignalGuard, landing_kept
from jobs.benchmark.lanes import Drop, engine_row, missing_row, reference_row, runs_overlap, time_reference, with_ratios
from jobs.benchmark.verify import verify_drop
from jobs.local_engines import ENGINES, LocalEngine, local_engines
from jobs.run_watch import RunSeen, wait_for_runs
from producers.upload import upload_paths
from twinlake.benchmarks import BenchmarkResults, BenchmarkRow, LaneStatus, make_bench_id
from twinlake.catalog import Lake
from twinlake.compare import GoldHashes
from twinlake.datasets import DatasetName
from twinlake.inputs import input_fingerprint, list_landing
from twinlake.layout import Engine
from twinlake.manifest import InputObject, RunManifest
from twinlake.settings import Settings, state_dir
from twinlake.store import ObjectStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from benchmarks.duckdb_reference import ReferenceResult

DEFAULT_ROWS = (10_000, 100_000, 1_000_000)
DEFAULT_REPEATS = 3
DEFAULT_TIMEOUT = 900.0


class SetupError(RuntimeError):
    """The benchmark could not start: the store does not answer, or the engines did not start."""


@dataclass(frozen=True)
class BenchmarkConfig:
    """What one benchmark runs, and where it keeps its files."""

    rows: tuple[int, ...] = DEFAULT_ROWS
    repeats: int = DEFAULT_REPEATS
    seed: int = DEFAULT_SEED
    timeout: float = DEFAULT_TIMEOUT  # per drop: the longest wait for both engines' runs, from the upload's end
    cache: Path = Path("data/bench")
    local_out: Path | None = Path("data")  # data/benchmark_results.csv and data/benchmark/
    start_engines: bool = False  # the local path: start both engines as processes when they are not running
    logs: Path = Path("data/logs")
    checkpoint: Path = Path("data/checkpoints/spark-engine")
    bench_id: str | None = None
    duckdb_threads: int = 2
    fault_rate: float | None = None

    def drops(self) -> list[tuple[int, int]]:
        return [(rows, repeat) for rows in self.rows for repeat in range(self.repeats)]


@dataclass
class Sweep:
    """Everything a running benchmark holds."""

    config: BenchmarkConfig
    settings: Settings
    store: ObjectStore
    client: S3Client
    console: Console
    bench_id: str
    lake: Lake = field(init=False)
    hashes: GoldHashes = field(init=False)
    engines: dict[Engine, LocalEngine] = field(default_factory=dict)
    rows: list[BenchmarkRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lake = Lake(self.store, self.settings.lake)
        self.hashes = GoldHashes(self.lake)

    def say(self, message: str) -> None:
        self.console.print(message, highlight=False)


def cpu_count() -> int:
    """Cores this process may use (a container's cpuset, not the node's count)."""
    return len(os.sched_getaffinity(0))


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return (round(one, 2), round(five, 2), round(fifteen, 2))


def drop_key(dataset: DatasetName, bench_id: str, rows: int, repeat: int) -> str:
    """`purchases/bench-<bench_id>-<rows>-<repeat>.csv`: a key no other drop uses."""
    return f"{dataset}/bench-{bench_id}-{rows}-{repeat}.csv"


def put_drop(sweep: Sweep, folder: Path, rows: int, repeat: int) -> tuple[tuple[InputObject, ...], datetime]:
    """Empty landing, then upload the drop's three files with the project's uploader; returns the input set as the
    store lists it and the time the last upload ended."""
    landing = sweep.settings.landing_bucket
    sweep.store.delete_prefix(landing, "")
    with tempfile.TemporaryDirectory(prefix="twinlake-bench-drop-") as staging:
        for dataset, path in csv_files(folder).items():
            # the uploader keys a file by its name under a prefix: a link named as the drop's key, to the cache
            name = Path(drop_key(dataset, sweep.bench_id, rows, repeat)).name
            link = Path(staging) / dataset / name
            link.parent.mkdir()
            link.symlink_to(path.resolve())
            upload_paths(sweep.settings, [link], prefix=f"{dataset}/", client=sweep.client, progress=False)
    landed_at = datetime.now(UTC)
    return list_landing(sweep.store, landing), landed_at


class _NoProgress(Progress):
    """A progress display that shows nothing and writes nothing."""

    def __init__(self) -> None:
        super().__init__(disable=True)

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def wait_for_engines(sweep: Sweep, fingerprint: str, landed_at: datetime) -> dict[Engine, RunSeen | str]:
    """Both engines' runs of the input set, with a progress bar per engine (bounded by the drop timeout); each
    run is reported as soon as its pointer moved (or it failed)."""
    timeout = sweep.config.timeout
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    # In a log (a Job's pod) there is no bar at all (even a disabled one ends with an empty line): the lines say it.
    live = sweep.console.is_terminal
    with Progress(*columns, console=sweep.console, transient=True) if live else _NoProgress() as progress:
        tasks = {
            e: progress.add_task(f"{e}: waiting for its run (at most {timeout:.0f} s)", total=timeout) for e in ENGINES
        }

        def on_poll(pending: set[Engine], elapsed: float) -> None:
            for engine in pending:
                progress.update(tasks[engine], completed=min(elapsed, timeout))
            for process in sweep.engines.values():
                process.sample()

        def on_seen(engine: Engine, seen: RunSeen) -> None:
            progress.update(tasks[engine], description=f"{engine}: {seen.manifest.status}", completed=timeout)
            delay = seen.landed_to_pointer(landed_at)
            what = f"pointer moved {delay:.1f} s after the upload" if delay is not None else f"{seen.manifest.error}"
            sweep.say(f"  {engine}: run {seen.manifest.run_id} {seen.manifest.status}, {what}")

        def gone(engine: Engine) -> str | None:
            process = sweep.engines.get(engine)
            code = None if process is None else process.exit_code()
            return None if code is None else f"the {engine} engine exited with code {code}"

        return wait_for_runs(sweep.lake, ENGINES, fingerprint, timeout, on_poll=on_poll, on_seen=on_seen, gone=gone)


def reference_date_of(manifests: Sequence[RunManifest | None]) -> date:
    """The reference date the engines' runs used (every lane must use the same); today when none ran."""
    dates = [m.reference_date for m in manifests if m is not None]
    return dates[0] if dates else datetime.now(UTC).date()


def reference_lane(
    sweep: Sweep, drop: Drop, folder: Path, inputs: Sequence[InputObject], reference_date: date
) -> tuple[ReferenceResult | None, BenchmarkRow]:
    """The DuckDB reference on the drop's files, with the landing keys and ETags as lineage."""
    from benchmarks.duckdb_reference import Source

    files = csv_files(folder)
    sources = [Source(i.dataset, i.key, i.etag, files[i.dataset]) for i in inputs]
    try:
        with tempfile.TemporaryDirectory(prefix="twinlake-bench-duckdb-") as out:
            _, result, peak = time_reference(sources, reference_date, Path(out), threads=sweep.config.duckdb_threads)
    except Exception as exc:  # a failed reference is a failed lane, recorded like any other
        return None, missing_row(drop, "duckdb", "failed", f"{type(exc).__name__}: {exc}")
    return result, reference_row(drop, result, peak)


def run_drop(sweep: Sweep, rows: int, repeat: int, number: int, total: int) -> list[BenchmarkRow]:
    seed = drop_seed(sweep.config.seed, repeat)
    folder = ensure_data(rows, seed, sweep.config.cache, fault_rate=sweep.config.fault_rate)
    label = f"3 x {rows:,} rows, repeat {repeat + 1} (seed {seed})"
    sweep.say(f"[bold]drop {number}/{total}[/bold]: {label}")
    drop = Drop(sweep.bench_id, rows, repeat, seed, cpu_count())
    for process in sweep.engines.values():
        process.reset_peak()
    inputs, landed_at = put_drop(sweep, folder, rows, repeat)
    fingerprint = input_fingerprint(inputs)
    sweep.say(f"  uploaded input set {fingerprint[:6]} ({len(inputs)} objects); waiting for both engines")
    outcome = wait_for_engines(sweep, fingerprint, landed_at)
    manifests: dict[Engine, RunManifest | None] = {}
    engine_rows: list[BenchmarkRow] = []
    for engine in ENGINES:
        result = outcome[engine]
        found = sweep.engines.get(engine)
        peak = found.peak_rss if found is not None and found.peak_rss else None
        if isinstance(result, RunSeen):
            manifests[engine] = result.manifest
            delay = result.landed_to_pointer(landed_at)
            engine_rows.append(engine_row(drop, result.manifest, landed_to_pointer=delay, process_peak_bytes=peak))
        else:
            manifests[engine] = None
            status: LaneStatus = "timeout" if result.startswith("no ") else "failed"
            engine_rows.append(missing_row(drop, engine, status, result, input_fingerprint=fingerprint))
            sweep.say(f"  [red]{engine}: {result}[/red]")
    overlap = runs_overlap(manifests[Engine.PANDAS], manifests[Engine.SPARK])
    engine_rows = [r.model_copy(update={"concurrent": overlap}) for r in engine_rows]
    reference_date = reference_date_of(list(manifests.values()))
    sweep.say(f"  duckdb reference on the same files (reference date {reference_date}) ...")
    reference, duckdb = reference_lane(sweep, drop, folder, inputs, reference_date)
    verdict = verify_drop(sweep.hashes, manifests, reference)
    sweep.problems += [f"{label}: {p}" for p in verdict.problems]
    if verdict.verified:
        sweep.say("  [green]verified[/green]: Gold tables identical, every count equal (engines and DuckDB)")
    else:
        sweep.say(f"  [red]NOT verified[/red]: {'; '.join(verdict.problems[:5])}")
    return verdict.apply([*engine_rows, duckdb])


def generate_all(sweep: Sweep) -> None:
    """Every drop's files before landing is touched (generation is the slow part at 1M rows)."""
    config = sweep.config
    needed = sorted({(rows, drop_seed(config.seed, repeat)) for rows, repeat in config.drops()})
    for rows, seed in needed:
        with sweep.console.status(f"data: 3 x {rows:,} rows, seed {seed} (cached in {config.cache}) ..."):
            ensure_data(rows, seed, config.cache, fault_rate=config.fault_rate)
    sweep.say(f"data ready: {len(needed)} set(s) of three files in {config.cache}")


@contextlib.contextmanager
def engines_running(sweep: Sweep) -> Iterator[None]:
    """The local path starts the engines that are not running; otherwise they are deployed and already there."""
    if not sweep.config.start_engines:
        yield
        return
    with contextlib.ExitStack() as stack:
        try:
            engines = stack.enter_context(
                local_engines(sweep.config.logs, sweep.config.checkpoint, state_dir(), sweep.say)
            )
        except (RuntimeError, TimeoutError) as exc:
            raise SetupError(f"the engines did not start: {exc}") from exc
        sweep.engines = {e.engine: e for e in engines}
        yield


@dataclass
class SweepResult:
    """The sweep's results, and why it stopped early, if it did."""

    results: BenchmarkResults
    interrupted: Interrupted | None = None
    failure: str | None = None  # an unexpected error stopped the sweep
    landing_error: str | None = None  # landing could not be restored


def run_sweep(sweep: Sweep, guard: SignalGuard, check_store: Callable[[], None]) -> SweepResult:
    """Generate, keep landing, run every drop, restore landing. A signal or an unexpected error stops the sweep
    with the rows so far (landing restored); `SetupError` (nothing measured yet) propagates."""
    config = sweep.config
    started_at = datetime.now(UTC)
    load_start = load_average()
    landing_before: int | None = None
    restored: bool | None = None
    interrupted: Interrupted | None = None
    failure: str | None = None
    landing_error: str | None = None
    drops = config.drops()
    try:
        check_store()
        generate_all(sweep)
        with landing_kept(
            sweep.store, sweep.settings.landing_bucket, sweep.settings.gold_bucket, sweep.bench_id, guard
        ) as backup:
            landing_before, restored = len(backup.objects), False
            sweep.store.delete_prefix(sweep.settings.landing_bucket, "")
            with engines_running(sweep):
                for number, (rows, repeat) in enumerate(drops, 1):
                    sweep.rows += run_drop(sweep, rows, repeat, number, len(drops))
        restored = True
    except SetupError:
        raise
    except LandingNotRestored as exc:
        landing_error, restored = str(exc), False
    except Interrupted as exc:
        interrupted = exc
    except Exception as exc:  # recorded with the rows so far; landing was restored on the way out
        failure = f"{type(exc).__name__}: {exc}"
    if (interrupted or failure) and restored is False:
        restored = True  # the landing guard's `finally` ran without raising LandingNotRestored
    stopped = interrupted or failure
    if stopped:
        sweep.say(f"[yellow]{stopped}: the sweep stopped after {len(sweep.rows) // 3} of {len(drops)} drop(s)[/yellow]")
        sweep.problems.append(f"the sweep stopped early: {stopped}")
    if landing_error:
        sweep.problems.append(f"landing not restored: {landing_error}")
    results = BenchmarkResults(
        bench_id=sweep.bench_id,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        rows_per_file=list(config.rows),
        repeats=config.repeats,
        seed=config.seed,
        cpu_count=cpu_count(),
        rows=with_ratios(sweep.rows),
        complete=not stopped and len(sweep.rows) == 3 * len(drops),
        load_average_start=load_start,
        load_average_end=load_average(),
        landing_objects=landing_before,
        landing_restored=restored,
        problems=sweep.problems,
    )
    return SweepResult(results, interrupted, failure, landing_error)


def new_bench_id(now: datetime | None = None) -> str:
    return make_bench_id(now or datetime.now(UTC), token_hex(3))
