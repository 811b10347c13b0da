"""Time the Pandas engine against the same pipeline in DuckDB SQL, in one process, on the same generated CSVs.

    .venv/bin/python benchmarks/bench_pandas.py --rows 1000000 [--repeat 3] [--seed 42] [--out data/in-process]

For each repeat, on fresh temp folders:
1. the Pandas engine's `execute_run` on a `LocalStore` whose landing bucket holds the three CSVs;
2. `benchmarks/duckdb_reference.py` on the very same CSV files (`SET threads=2`).
Figures come from the same code path as the benchmark of the deployed engines (`jobs/benchmark/lanes.py`): the
run's own timer (its manifest: seconds per layer, total, peak memory) and the reference's timer, as
`BenchmarkRow`s (mode `in-process`). The two must agree on every count (per dataset rows in / clean / rejected,
every rule, every Gold table's row count): a mismatch is printed loudly and the exit status is 1. The generated
data is cached in `data/bench/<rows>-<seed>/`, shared with `python -m jobs.benchmark` (reference date = the
generator's as-of). `--out DIR` writes `DIR/benchmark_results.csv` and `DIR/benchmark/` (results.json, report.md,
plots) in the benchmark's result schema.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `twinlake`, `jobs` and `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402

from benchmarks.duckdb_reference import ReferenceResult, Source  # noqa: E402
from jobs.benchmark.data import DEFAULT_AS_OF, ensure_data  # noqa: E402
from jobs.benchmark.lanes import (  # noqa: E402
    Drop,
    count_problems,
    engine_row,
    reference_row,
    time_reference,
    with_ratios,
)
from jobs.benchmark.report import outputs, print_results, write_local  # noqa: E402
from jobs.benchmark.sweep import cpu_count, load_average, new_bench_id  # noqa: E402
from jobs.pandas_engine.run import execute_run  # noqa: E402
from jobs.runs import RunRequest  # noqa: E402
from twinlake.benchmarks import BenchmarkResults, BenchmarkRow  # noqa: E402
from twinlake.datasets import DatasetName  # noqa: E402
from twinlake.inputs import list_landing  # noqa: E402
from twinlake.layout import Buckets  # noqa: E402
from twinlake.manifest import RunManifest  # noqa: E402
from twinlake.store import LocalStore  # noqa: E402

LANDING = "landing"
BUCKETS = Buckets(bronze="bronze", silver="silver", gold="gold")
TARGET_RATIO = 2.0
console = Console(width=None if sys.stdout.isatty() else 160)


@dataclass(frozen=True)
class Lanes:
    """One repeat's rows, and the results they were made from (checked for agreement)."""

    rows: list[BenchmarkRow]
    manifests: list[RunManifest]
    reference: ReferenceResult

    def problems(self) -> list[str]:
        return [p for m in self.manifests for p in count_problems(m, self.reference)]


def landing_store(root: Path, data: Path) -> LocalStore:
    """A LocalStore whose landing bucket holds `<dataset>.csv` for each dataset (not timed)."""
    store = LocalStore(root)
    for name in DatasetName:
        store.put(LANDING, f"{name}.csv", (data / f"{name}.csv").read_bytes())
    return store


def run_pandas(store: LocalStore, reference_date: date, started_at: datetime) -> RunManifest:
    """The Pandas engine's whole run on the store's landing files; its manifest (which must say succeeded)."""
    request = RunRequest(list_landing(store, LANDING), reference_date, started_at)
    gc.collect()
    outcome = execute_run(store, LANDING, BUCKETS, request)
    if not outcome.manifest.succeeded:
        raise RuntimeError(f"pandas run failed: {outcome.manifest.error}")
    return outcome.manifest


def run_duckdb(data: Path, reference_date: date) -> tuple[ReferenceResult, int]:
    """The DuckDB reference on a fresh store's landing files (same keys and ETags as the engines'), its peak RSS."""
    with tempfile.TemporaryDirectory(prefix="twinlake-bench-") as tmp:
        store = landing_store(Path(tmp) / "duckdb", data)
        sources = [Source(i.dataset, i.key, i.etag, store.root / LANDING / i.key) for i in list_landing(store, LANDING)]
        _, result, peak = time_reference(sources, reference_date, Path(tmp) / "out")
    return result, peak


def one_repeat(drop: Drop, data: Path, reference_date: date) -> Lanes:
    """Pandas then DuckDB, each on its own fresh temp folder holding the same landing CSVs."""
    with tempfile.TemporaryDirectory(prefix="twinlake-bench-") as tmp:
        store = landing_store(Path(tmp) / "pandas", data)
        started_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=drop.repeat)
        manifest = run_pandas(store, reference_date, started_at)
    reference, peak = run_duckdb(data, reference_date)
    rows = [engine_row(drop, manifest).model_copy(update={"concurrent": False}), reference_row(drop, reference, peak)]
    return Lanes(rows, [manifest], reference)


def results_of(
    bench_id: str, args: argparse.Namespace, started_at: datetime, rows: list[BenchmarkRow], verified: bool
) -> BenchmarkResults:
    """The in-process lanes' results (every row verified when every repeat's counts agreed)."""
    return BenchmarkResults(
        bench_id=bench_id,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        rows_per_file=[args.rows],
        repeats=args.repeat,
        seed=args.seed,
        cpu_count=cpu_count(),
        rows=[r.model_copy(update={"verified": verified}) for r in with_ratios(rows)],
        mode="in-process",
        load_average_end=load_average(),
    )


def pairs(rows: Sequence[BenchmarkRow]) -> list[tuple[BenchmarkRow, BenchmarkRow]]:
    """(pandas row, duckdb row) of every repeat."""
    by_repeat = {(r.repeat, r.engine): r for r in rows}
    return [(by_repeat[(n, "pandas")], by_repeat[(n, "duckdb")]) for n in sorted({r.repeat for r in rows})]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="data rows per dataset (default 1000000)")
    p.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    p.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF, help="generator as-of = reference date")
    p.add_argument("--fault-rate", type=float, default=None, help="generator fault rate (default: its own)")
    p.add_argument("--repeat", type=int, default=3, help="timed repeats of both engines (default 3)")
    p.add_argument("--cache", type=Path, default=ROOT / "data" / "bench", help="where generated data is kept")
    p.add_argument("--out", type=Path, default=None, help="also write the results (CSV, JSON, report, plots) here")
    p.add_argument("--json", type=Path, default=None, help="also write results.json (the benchmark's schema) here")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    data = ensure_data(args.rows, args.seed, args.cache, as_of=args.as_of, fault_rate=args.fault_rate)
    bench_id, started_at = new_bench_id(), datetime.now(UTC)
    rows: list[BenchmarkRow] = []
    failed = False
    for i in range(args.repeat):
        drop = Drop(bench_id, args.rows, i, args.seed, cpu_count(), mode="in-process")
        lanes = one_repeat(drop, data, args.as_of)
        rows += lanes.rows
        problems = lanes.problems()
        pandas, duckdb = lanes.rows
        load = ", ".join(f"{x:.1f}" for x in load_average())
        status = "counts agree" if not problems else f"{len(problems)} COUNT MISMATCHES"
        console.print(
            f"repeat {i + 1}: pandas {pandas.total_sec:.2f} s, duckdb {duckdb.total_sec:.2f} s: {status} "
            f"(load average {load} on {cpu_count()} cores)",
            highlight=False,
        )
        for problem in problems:
            console.print(f"  MISMATCH {problem}", style="red", highlight=False)
        failed = failed or bool(problems)
    results = results_of(bench_id, args, started_at, rows, not failed)
    print_results(console, results)
    ratio = statistics.median(r.total_vs_pandas_ratio or 0 for r in results.rows if r.engine == "duckdb")
    pandas_over_duckdb = 1 / ratio if ratio else float("inf")
    verdict = "meets" if pandas_over_duckdb <= TARGET_RATIO else "MISSES"
    console.print(
        f"median ratio pandas/duckdb: {pandas_over_duckdb:.2f}x ({verdict} the <= {TARGET_RATIO:.1f}x target)"
    )
    if args.out:
        csv, folder = write_local(outputs(results), args.out)
        console.print(f"results: {csv} and {folder}/")
    if args.json:
        args.json.write_bytes(results.to_json())
    if failed:
        console.print(
            "\n!!! PANDAS AND THE DUCKDB REFERENCE DISAGREE ON COUNTS (see MISMATCH lines above) !!!", style="red"
        )
        return 1
    console.print("counts agree (every dataset, every rule, every Gold table)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
