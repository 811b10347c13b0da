"""Time the Spark engine against the Pandas engine and the DuckDB reference, on the same generated landing CSVs.

    .venv/bin/python benchmarks/bench_spark.py --rows 1000000 [--repeat 3] [--seed 42] [--skip-pandas] [--out DIR]

Local files only, no S3 server: every engine reads and writes a `LocalStore` in a fresh temp folder, and the
Spark engine's `execute_run` addresses that store's folders as file:// URIs (`jobs.spark_engine.run.uri`).
1. **Cold start**: wall time of `build_session` (JVM launch, connector jars on the classpath, session config),
   the way the engine's entrypoint builds it (`local[*]`), measured once.
2. Per repeat, in one process (the session stays up: the repeats are *warm* runs, the first one also pays
   the JIT warm-up): the Spark engine's `execute_run`, then the Pandas engine's, then the DuckDB reference
   (`SET threads=2`), each on its own fresh temp folder with the same three CSVs. Figures come from the runs' own
   timers (manifests) and the reference's, through the code path the benchmark of the deployed engines uses
   (`jobs/benchmark/lanes.py`), as `BenchmarkRow`s of mode `in-process`.
3. Counts must agree (every dataset, every rule, every Gold table's row count) between Spark and DuckDB, and
   between Pandas and DuckDB; a mismatch is printed and the exit status is 1.
4. Peak memory: the Spark JVM's VmHWM (read from /proc/<jvm pid>, reset before each run; the row's
   `process_peak_mib`) and the Python driver's, the Pandas run's (manifest) and DuckDB's (process VmHWM).
The data is the cache shared with `bench_pandas.py` and `python -m jobs.benchmark` (`data/bench/<rows>-<seed>/`).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `twinlake`, `jobs` and `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_pandas import (  # noqa: E402
    BUCKETS,
    LANDING,
    Lanes,
    console,
    landing_store,
    results_of,
    run_duckdb,
    run_pandas,
)
from jobs.benchmark.data import DEFAULT_AS_OF, ensure_data  # noqa: E402
from jobs.benchmark.lanes import Drop, engine_row, reference_row  # noqa: E402
from jobs.benchmark.report import outputs, print_results, write_local  # noqa: E402
from jobs.benchmark.sweep import cpu_count, load_average, new_bench_id  # noqa: E402
from twinlake.benchmarks import BenchmarkRow  # noqa: E402
from twinlake.inputs import list_landing  # noqa: E402
from twinlake.manifest import RunManifest  # noqa: E402
from twinlake.store import LocalStore  # noqa: E402

TARGETS = {1_000_000: 6.0, 10_000_000: 3.0}  # Spark warm run <= N x DuckDB at this many rows per file


class Jvm:
    """The Spark driver JVM's peak resident memory (VmHWM in /proc/<pid>/status; Linux only)."""

    def __init__(self, spark: Any) -> None:
        self.pid = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())

    def reset(self) -> None:
        with contextlib.suppress(OSError):
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def peak_bytes(self) -> int:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return 0


def start_session(driver_memory: str | None) -> tuple[Any, float]:
    """The engine's session as its entrypoint builds it (with the connector jars), and its cold start seconds."""
    start = time.perf_counter()
    from jobs.spark_engine.session import build_session

    extra = {"spark.driver.memory": driver_memory} if driver_memory else None
    spark = build_session(None, app_name="twinlake-bench", extra=extra)
    spark.range(1).count()  # the first job: executor threads and code generation up
    return spark, time.perf_counter() - start


def run_spark(spark: Any, jvm: Jvm, store: LocalStore, reference_date: date, started_at: datetime) -> RunManifest:
    from jobs.runs import RunRequest
    from jobs.spark_engine.run import execute_run

    request = RunRequest(list_landing(store, LANDING), reference_date, started_at)
    gc.collect()
    jvm.reset()
    outcome = execute_run(spark, store, LANDING, BUCKETS, request)
    if not outcome.manifest.succeeded:
        raise RuntimeError(f"spark run failed: {outcome.manifest.error}")
    return outcome.manifest


def one_repeat(spark: Any, jvm: Jvm, drop: Drop, data: Path, reference_date: date, with_pandas: bool) -> Lanes:
    started_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=drop.repeat)
    with tempfile.TemporaryDirectory(prefix="twinlake-bench-") as tmp:
        store = landing_store(Path(tmp) / "spark", data)
        spark_manifest = run_spark(spark, jvm, store, reference_date, started_at)
    manifests = [spark_manifest]
    rows = [engine_row(drop, spark_manifest, process_peak_bytes=jvm.peak_bytes())]
    if with_pandas:
        with tempfile.TemporaryDirectory(prefix="twinlake-bench-") as tmp:
            store = landing_store(Path(tmp) / "pandas", data)
            pandas_manifest = run_pandas(store, reference_date, started_at)
        manifests.append(pandas_manifest)
        rows.append(engine_row(drop, pandas_manifest))
    reference, peak = run_duckdb(data, reference_date)
    rows = [r.model_copy(update={"concurrent": False}) for r in rows] + [reference_row(drop, reference, peak)]
    return Lanes(rows, manifests, reference)


def _total(rows: Sequence[BenchmarkRow], repeat: int, lane: str) -> float | None:
    return next((r.total_sec for r in rows if r.repeat == repeat and r.engine == lane), None)


def report(rows_per_file: int, cold: float, rows: Sequence[BenchmarkRow]) -> dict[str, float]:
    """Print the ratios against the targets; returns the median ratios."""
    repeats = sorted({r.repeat for r in rows})
    spark = [_total(rows, n, "spark") or 0.0 for n in repeats]
    duckdb = [_total(rows, n, "duckdb") or 1.0 for n in repeats]
    pandas = [_total(rows, n, "pandas") for n in repeats]
    ratios = {"spark_duckdb": statistics.median(s / d for s, d in zip(spark, duckdb, strict=True))}
    if all(p for p in pandas):
        ratios["spark_pandas"] = statistics.median(s / (p or 1.0) for s, p in zip(spark, pandas, strict=True))
    console.print(f"Spark session cold start (JVM + connector jars + first job): {cold:.2f} s")
    target = TARGETS.get(rows_per_file)
    verdict = "" if target is None else (f" ({'meets' if ratios['spark_duckdb'] <= target else 'MISSES'} "
                                         f"the <= {target:.0f}x target)")  # fmt: skip
    console.print(f"median ratio spark/duckdb: {ratios['spark_duckdb']:.2f}x{verdict}")
    if "spark_pandas" in ratios:
        console.print(f"median ratio spark/pandas: {ratios['spark_pandas']:.2f}x")
    return ratios


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="data rows per dataset (default 1000000)")
    p.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    p.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF, help="generator as-of = reference date")
    p.add_argument("--fault-rate", type=float, default=None, help="generator fault rate (default: its own)")
    p.add_argument("--repeat", type=int, default=3, help="timed repeats (default 3)")
    p.add_argument("--skip-pandas", action="store_true", help="do not run the Pandas engine (e.g. at 10M rows)")
    p.add_argument("--driver-memory", default=None, help="spark.driver.memory (default: the engine's)")
    p.add_argument("--cache", type=Path, default=ROOT / "data" / "bench", help="where generated data is kept")
    p.add_argument("--out", type=Path, default=None, help="also write the results (CSV, JSON, report, plots) here")
    p.add_argument("--json", type=Path, default=None, help="also write results.json (the benchmark's schema) here")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    data = ensure_data(args.rows, args.seed, args.cache, as_of=args.as_of, fault_rate=args.fault_rate)
    spark, cold = start_session(args.driver_memory)
    console.print(f"spark {spark.version}: session up in {cold:.2f} s (cold, with connector jars)", highlight=False)
    jvm = Jvm(spark)
    bench_id, started_at = new_bench_id(), datetime.now(UTC)
    rows: list[BenchmarkRow] = []
    failed = False
    for i in range(args.repeat):
        drop = Drop(bench_id, args.rows, i, args.seed, cpu_count(), mode="in-process")
        lanes = one_repeat(spark, jvm, drop, data, args.as_of, not args.skip_pandas)
        rows += lanes.rows
        problems = lanes.problems()
        status = "counts agree" if not problems else f"{len(problems)} COUNT MISMATCHES"
        figures = ", ".join(f"{r.engine} {r.total_sec:.2f} s" for r in lanes.rows)
        load = ", ".join(f"{x:.1f}" for x in load_average())
        console.print(
            f"repeat {i + 1}: {figures}: {status} (load average {load} on {cpu_count()} cores)", highlight=False
        )
        for problem in problems:
            console.print(f"  MISMATCH {problem}", style="red", highlight=False)
        failed = failed or bool(problems)
    spark.stop()
    results = results_of(bench_id, args, started_at, rows, not failed)
    print_results(console, results)
    report(args.rows, cold, results.rows)
    if args.out:
        csv, folder = write_local(outputs(results), args.out)
        console.print(f"results: {csv} and {folder}/")
    if args.json:
        args.json.write_bytes(results.to_json())
    if failed:
        console.print("\n!!! ENGINES AND THE DUCKDB REFERENCE DISAGREE ON COUNTS (see MISMATCH lines) !!!", style="red")
        return 1
    console.print("counts agree (every dataset, every rule, every Gold table)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
