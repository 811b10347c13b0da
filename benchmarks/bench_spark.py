"""Time the Spark engine against the Pandas engine and the DuckDB reference, on the same generated landing CSVs.

    .venv/bin/python benchmarks/bench_spark.py --rows 1000000 [--repeat 3] [--seed 42] [--skip-pandas]

Local files only, no S3 server: every engine reads and writes a `LocalStore` in a fresh temp folder, and the
Spark engine's `execute_run` addresses that store's folders as file:// URIs (`jobs.spark_engine.run.uri`).
1. **Cold start**: wall time of `build_session` (JVM launch, connector jars on the classpath, session config),
   the way the engine's entrypoint builds it (`local[*]`), measured once.
2. Per repeat, in one process (the session stays up: the repeats are *warm* runs, the first one also pays
   the JIT warm-up): the Spark engine's `execute_run`, then the Pandas engine's, then the DuckDB reference
   (`SET threads=2`), each on its own fresh temp folder with the same three CSVs, each timed wall-clock with
   every Parquet write included.
3. Counts must agree (every dataset, every rule, every Gold table's row count) between Spark and DuckDB, and
   between Pandas and DuckDB; a mismatch is printed and the exit status is 1.
4. Peak memory: the Spark JVM's VmHWM (read from /proc/<jvm pid>, reset before each run) and the Python
   driver's, the Pandas run's (manifest) and DuckDB's (process VmHWM).
The data is the cache of `bench_pandas.py` (`data/bench/<rows>-<seed>/`, generated when missing).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `twinlake`, `jobs` and `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_pandas import (  # noqa: E402
    BUCKETS,
    DEFAULT_AS_OF,
    LANDING,
    compare,
    ensure_data,
    landing_store,
    run_duckdb,
    run_pandas,
)
from benchmarks.duckdb_reference import ReferenceResult  # noqa: E402
from jobs.metrics import reset_peak_rss  # noqa: E402
from twinlake.inputs import list_landing  # noqa: E402
from twinlake.manifest import RunManifest  # noqa: E402
from twinlake.store import LocalStore  # noqa: E402

TARGETS = {1_000_000: 6.0, 10_000_000: 3.0}  # the issue: Spark warm run <= N x DuckDB at this many rows per file


@dataclass(frozen=True)
class Repeat:
    spark_seconds: float
    spark: RunManifest
    jvm_peak_bytes: int
    pandas_seconds: float | None
    pandas: RunManifest | None
    duckdb_seconds: float
    reference: ReferenceResult
    duckdb_peak_bytes: int


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
    if driver_memory:
        os.environ["TWINLAKE_SPARK_DRIVER_MEMORY"] = driver_memory
    start = time.perf_counter()
    from jobs.spark_engine.session import build_session

    spark = build_session(None, app_name="twinlake-bench")
    spark.range(1).count()  # the first job: executor threads and code generation up
    return spark, time.perf_counter() - start


def run_spark(
    spark: Any, jvm: Jvm, store: LocalStore, reference_date: date, started_at: datetime
) -> tuple[float, RunManifest, int]:
    from jobs.runs import RunRequest
    from jobs.spark_engine.run import execute_run

    request = RunRequest(list_landing(store, LANDING), reference_date, started_at)
    gc.collect()
    jvm.reset()
    start = time.perf_counter()
    outcome = execute_run(spark, store, LANDING, BUCKETS, request)
    seconds = time.perf_counter() - start
    if not outcome.manifest.succeeded:
        raise RuntimeError(f"spark run failed: {outcome.manifest.error}")
    return seconds, outcome.manifest, jvm.peak_bytes()


def one_repeat(spark: Any, jvm: Jvm, data: Path, reference_date: date, index: int, with_pandas: bool) -> Repeat:
    started_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=index)
    with tempfile.TemporaryDirectory(prefix="twinlake-bench-") as tmp:
        store = landing_store(Path(tmp) / "spark", data)
        spark_seconds, spark_manifest, jvm_peak = run_spark(spark, jvm, store, reference_date, started_at)
    pandas_seconds, pandas_manifest = None, None
    if with_pandas:
        with tempfile.TemporaryDirectory(prefix="twinlake-bench-") as tmp:
            store = landing_store(Path(tmp) / "pandas", data)
            pandas_seconds, pandas_manifest = run_pandas(store, reference_date, started_at)
    with tempfile.TemporaryDirectory(prefix="twinlake-bench-") as tmp:
        store = landing_store(Path(tmp) / "duckdb", data)
        reset_peak_rss()
        duckdb_seconds, reference, duckdb_peak = run_duckdb(store, reference_date, Path(tmp) / "out")
    return Repeat(
        spark_seconds, spark_manifest, jvm_peak, pandas_seconds, pandas_manifest, duckdb_seconds, reference, duckdb_peak
    )


def _mib(n: int | None) -> str:
    return "n/a" if not n else f"{n / 2**20:,.0f} MiB"


def _layers(m: RunManifest | None) -> str:
    if m is None or m.seconds is None:
        return "          -/-/-"
    s = m.seconds
    return f"{s.bronze:>6.2f}/{s.silver:>6.2f}/{s.gold:>6.2f}"


def report(rows: int, cold: float, repeats: Sequence[Repeat]) -> dict[str, float]:
    """Print the figures; returns the median ratios."""
    print(f"\n3 x {rows:,} rows (clients, purchases, promotions); Spark on local files (file://), local[*]")
    print(f"Spark session cold start (JVM + connector jars + first job): {cold:.2f} s")
    header = (
        f"{'repeat':>6} {'spark s':>8} {'pandas s':>8} {'duckdb s':>8} {'sp/dk':>6} {'sp/pd':>6}"
        f"   spark bronze/silver/gold   pandas b/s/g          duckdb b/s/g"
    )
    print(header)
    print("-" * len(header))
    for i, r in enumerate(repeats, 1):
        d = r.reference.seconds
        pd_s = f"{r.pandas_seconds:>8.2f}" if r.pandas_seconds else f"{'-':>8}"
        sp_pd = f"{r.spark_seconds / r.pandas_seconds:>6.2f}" if r.pandas_seconds else f"{'-':>6}"
        print(
            f"{i:>6} {r.spark_seconds:>8.2f} {pd_s} {r.duckdb_seconds:>8.2f} "
            f"{r.spark_seconds / r.duckdb_seconds:>6.2f} {sp_pd}   {_layers(r.spark)}   {_layers(r.pandas)}   "
            f"{d['bronze']:>5.2f}/{d['silver']:>5.2f}/{d['gold']:>5.2f}"
        )
    ratios = {"spark_duckdb": statistics.median(r.spark_seconds / r.duckdb_seconds for r in repeats)}
    with_pandas = [r for r in repeats if r.pandas_seconds]
    if with_pandas:
        ratios["spark_pandas"] = statistics.median(r.spark_seconds / (r.pandas_seconds or 1) for r in with_pandas)
    print(
        f"median spark: {statistics.median(r.spark_seconds for r in repeats):.2f} s, "
        f"median duckdb: {statistics.median(r.duckdb_seconds for r in repeats):.2f} s"
        + (
            f", median pandas: {statistics.median(r.pandas_seconds or 0 for r in with_pandas):.2f} s"
            if with_pandas
            else ""
        )
    )
    target = TARGETS.get(rows)
    verdict = "" if target is None else (f" ({'meets' if ratios['spark_duckdb'] <= target else 'MISSES'} "
                                         f"the <= {target:.0f}x target)")  # fmt: skip
    print(f"median ratio spark/duckdb: {ratios['spark_duckdb']:.2f}x{verdict}")
    if "spark_pandas" in ratios:
        print(f"median ratio spark/pandas: {ratios['spark_pandas']:.2f}x")
    print(
        f"peak memory: spark JVM {_mib(max(r.jvm_peak_bytes for r in repeats))} (driver JVM VmHWM), "
        f"spark python side {_mib(max(r.spark.peak_memory_bytes or 0 for r in repeats))} (manifest), "
        f"pandas {_mib(max((r.pandas.peak_memory_bytes or 0) if r.pandas else 0 for r in repeats))} (manifest), "
        f"duckdb {_mib(max(r.duckdb_peak_bytes for r in repeats))} (process VmHWM)"
    )
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
    p.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    data = ensure_data(args.rows, args.seed, args.as_of, args.fault_rate, args.cache)
    spark, cold = start_session(args.driver_memory)
    print(f"spark {spark.version}: session up in {cold:.2f} s (cold, with connector jars)", flush=True)
    jvm = Jvm(spark)
    repeats: list[Repeat] = []
    failed = False
    for i in range(args.repeat):
        r = one_repeat(spark, jvm, data, args.as_of, i, not args.skip_pandas)
        repeats.append(r)
        problems = [p.replace("pandas", "spark") for p in compare(r.spark, r.reference)]
        if r.pandas is not None:
            problems += compare(r.pandas, r.reference)
        status = "counts agree" if not problems else f"{len(problems)} COUNT MISMATCHES"
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        pandas = f"pandas {r.pandas_seconds:.2f} s, " if r.pandas_seconds else ""
        print(
            f"repeat {i + 1}: spark {r.spark_seconds:.2f} s, {pandas}duckdb {r.duckdb_seconds:.2f} s: {status} "
            f"(load average {load} on {os.cpu_count()} cores)",
            flush=True,
        )
        for problem in problems:
            print(f"  MISMATCH {problem}", file=sys.stderr)
        failed = failed or bool(problems)
    ratios = report(args.rows, cold, repeats)
    if args.json:
        figures: dict[str, Any] = {
            "rows": args.rows,
            "seed": args.seed,
            "spark_cold_start_seconds": round(cold, 3),
            "median_ratios": {k: round(v, 3) for k, v in ratios.items()},
            "counts_agree": not failed,
            "repeats": [
                {
                    "spark_seconds": round(r.spark_seconds, 3),
                    "pandas_seconds": None if r.pandas_seconds is None else round(r.pandas_seconds, 3),
                    "duckdb_seconds": round(r.duckdb_seconds, 3),
                    "spark_layers": r.spark.seconds.model_dump() if r.spark.seconds else None,
                    "pandas_layers": r.pandas.seconds.model_dump() if r.pandas and r.pandas.seconds else None,
                    "duckdb_layers": r.reference.seconds,
                    "spark_jvm_peak_bytes": r.jvm_peak_bytes,
                    "spark_python_peak_bytes": r.spark.peak_memory_bytes,
                    "pandas_peak_bytes": r.pandas.peak_memory_bytes if r.pandas else None,
                    "duckdb_peak_bytes": r.duckdb_peak_bytes,
                }
                for r in repeats
            ],
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    spark.stop()
    if failed:
        print(
            "\n!!! ENGINES AND THE DUCKDB REFERENCE DISAGREE ON COUNTS (see MISMATCH lines above) !!!", file=sys.stderr
        )
        return 1
    print("counts agree (every dataset, every rule, every Gold table)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
