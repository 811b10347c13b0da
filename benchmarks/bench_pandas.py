"""Time the Pandas engine against the same pipeline in DuckDB SQL, on the same generated landing CSVs.

    .venv/bin/python benchmarks/bench_pandas.py --rows 1000000 [--repeat 3] [--seed 42]

For each repeat, in one process and on fresh temp folders:
1. the Pandas engine's `execute_run` on a `LocalStore` whose landing bucket holds the three CSVs (wall time of
   the whole run, Parquet writes included; per-layer seconds and peak memory come from its manifest);
2. `benchmarks/duckdb_reference.py` on the very same CSV files (`SET threads=2`; wall time including its
   Parquet writes).
The two must agree on every count (per dataset clean / rejected / per rule, and every Gold table's row count):
a mismatch is printed loudly and the exit status is 1. The generated data is cached in
`data/bench/<rows>-<seed>/` (reference date = the generator's as-of).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
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

from benchmarks.duckdb_reference import ReferenceResult, Source, run_reference  # noqa: E402
from jobs.metrics import peak_rss_bytes, reset_peak_rss  # noqa: E402
from jobs.pandas_engine.run import execute_run  # noqa: E402
from jobs.runs import RunRequest  # noqa: E402
from twinlake.datasets import DatasetName  # noqa: E402
from twinlake.inputs import list_landing  # noqa: E402
from twinlake.layout import Buckets  # noqa: E402
from twinlake.manifest import RunManifest  # noqa: E402
from twinlake.store import LocalStore  # noqa: E402

LANDING = "landing"
BUCKETS = Buckets(bronze="bronze", silver="silver", gold="gold")
DEFAULT_AS_OF = date(2026, 11, 26)
TARGET_RATIO = 2.0


@dataclass(frozen=True)
class Repeat:
    """One repeat: both engines' wall seconds, the Pandas manifest and the DuckDB result."""

    pandas_seconds: float
    duckdb_seconds: float
    manifest: RunManifest
    reference: ReferenceResult
    duckdb_peak_bytes: int

    @property
    def ratio(self) -> float:
        return self.pandas_seconds / self.duckdb_seconds


def ensure_data(rows: int, seed: int, as_of: date, fault_rate: float | None, cache: Path) -> Path:
    """The generated landing CSVs for these arguments, generated once into `cache` and reused afterwards."""
    name = f"{rows}-{seed}" if fault_rate is None else f"{rows}-{seed}-f{fault_rate}"
    folder = cache / name
    truth = folder / "truth.json"
    if truth.exists() and json.loads(truth.read_text())["generator"]["as_of"] == as_of.isoformat():
        return folder
    tmp = cache / f"{name}.tmp"
    argv = [sys.executable, "-m", "producers.generate", "--rows", str(rows), "--seed", str(seed)]
    argv += ["--as-of", as_of.isoformat(), "--out", str(tmp)]
    if fault_rate is not None:
        argv += ["--fault-rate", str(fault_rate)]
    print(f"generating {rows:,} rows per dataset into {folder} ...", flush=True)
    subprocess.run(argv, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    if folder.exists():
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
    tmp.rename(folder)
    return folder


def landing_store(root: Path, data: Path) -> LocalStore:
    """A LocalStore whose landing bucket holds `<dataset>.csv` for each dataset (not timed)."""
    store = LocalStore(root)
    for name in DatasetName:
        store.put(LANDING, f"{name}.csv", (data / f"{name}.csv").read_bytes())
    return store


def run_pandas(store: LocalStore, reference_date: date, started_at: datetime) -> tuple[float, RunManifest]:
    """Wall seconds of the Pandas engine's whole run, and its manifest (which must say succeeded)."""
    request = RunRequest(list_landing(store, LANDING), reference_date, started_at)
    gc.collect()
    start = time.perf_counter()
    outcome = execute_run(store, LANDING, BUCKETS, request)
    seconds = time.perf_counter() - start
    if not outcome.manifest.succeeded:
        raise RuntimeError(f"pandas run failed: {outcome.manifest.error}")
    return seconds, outcome.manifest


def run_duckdb(store: LocalStore, reference_date: date, out: Path) -> tuple[float, ReferenceResult, int]:
    """Wall seconds of the DuckDB reference on the store's landing files, its result and its peak RSS."""
    sources = [Source(i.dataset, i.key, i.etag, store.root / LANDING / i.key) for i in list_landing(store, LANDING)]
    gc.collect()
    reset_peak_rss()
    start = time.perf_counter()
    result = run_reference(sources, out, reference_date, threads=2)
    seconds = time.perf_counter() - start
    return seconds, result, peak_rss_bytes()


def compare(manifest: RunManifest, reference: ReferenceResult) -> list[str]:
    """Every count on which the Pandas run and the DuckDB reference disagree (empty when they agree)."""
    problems: list[str] = []
    for name in DatasetName:
        mine = manifest.datasets[name].model_dump()
        theirs = reference.counts[str(name)]
        for key in ("rows_in", "rows_clean", "rows_rejected"):
            if mine[key] != theirs[key]:
                problems.append(f"{name}.{key}: pandas {mine[key]} != duckdb {theirs[key]}")
        for code in sorted(set(mine["rejected_by_rule"]) | set(theirs["rejected_by_rule"])):
            a, b = mine["rejected_by_rule"].get(code, 0), theirs["rejected_by_rule"].get(code, 0)
            if a != b:
                problems.append(f"{name}.rejected_by_rule.{code}: pandas {a} != duckdb {b}")
    for table in sorted(set(manifest.gold_row_counts) | set(reference.gold_row_counts)):
        a2, b2 = manifest.gold_row_counts.get(table), reference.gold_row_counts.get(table)
        if a2 != b2:
            problems.append(f"gold {table} rows: pandas {a2} != duckdb {b2}")
    return problems


def one_repeat(data: Path, reference_date: date, index: int) -> Repeat:
    """Pandas then DuckDB, each on its own fresh temp folder holding the same landing CSVs."""
    with tempfile.TemporaryDirectory(prefix="twinlake-bench-") as tmp:
        store = landing_store(Path(tmp) / "pandas", data)
        started_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=index)
        pandas_seconds, manifest = run_pandas(store, reference_date, started_at)
    with tempfile.TemporaryDirectory(prefix="twinlake-bench-") as tmp:
        store = landing_store(Path(tmp) / "duckdb", data)
        duckdb_seconds, reference, duckdb_peak = run_duckdb(store, reference_date, Path(tmp) / "out")
    return Repeat(pandas_seconds, duckdb_seconds, manifest, reference, duckdb_peak)


def _mib(n: int | None) -> str:
    return "n/a" if not n else f"{n / 2**20:,.0f} MiB"


def report(rows: int, repeats: Sequence[Repeat]) -> float:
    """Print the table of figures; returns the median pandas/duckdb ratio."""
    print(f"\n3 x {rows:,} rows (clients, purchases, promotions)")
    header = f"{'repeat':>6} {'pandas s':>9} {'duckdb s':>9} {'ratio':>6}   pandas bronze/silver/gold   duckdb b/s/g"
    print(header)
    print("-" * len(header))
    for i, r in enumerate(repeats, 1):
        s = r.manifest.seconds
        assert s is not None
        d = r.reference.seconds
        print(
            f"{i:>6} {r.pandas_seconds:>9.2f} {r.duckdb_seconds:>9.2f} {r.ratio:>6.2f}   "
            f"{s.bronze:>7.2f} {s.silver:>7.2f} {s.gold:>7.2f}     "
            f"{d['bronze']:>5.2f} {d['silver']:>5.2f} {d['gold']:>5.2f}"
        )
    ratio = statistics.median(r.ratio for r in repeats)
    print(f"median pandas: {statistics.median(r.pandas_seconds for r in repeats):.2f} s, "
          f"median duckdb: {statistics.median(r.duckdb_seconds for r in repeats):.2f} s")  # fmt: skip
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(f"median ratio pandas/duckdb: {ratio:.2f}x ({verdict} the <= {TARGET_RATIO:.1f}x target)")
    print(
        f"peak memory: pandas {_mib(max(r.manifest.peak_memory_bytes or 0 for r in repeats))} (manifest), "
        f"duckdb run {_mib(max(r.duckdb_peak_bytes for r in repeats))} (process VmHWM)"
    )
    return ratio


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="data rows per dataset (default 1000000)")
    p.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    p.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF, help="generator as-of = reference date")
    p.add_argument("--fault-rate", type=float, default=None, help="generator fault rate (default: its own)")
    p.add_argument("--repeat", type=int, default=3, help="timed repeats of both engines (default 3)")
    p.add_argument("--cache", type=Path, default=ROOT / "data" / "bench", help="where generated data is kept")
    p.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    data = ensure_data(args.rows, args.seed, args.as_of, args.fault_rate, args.cache)
    repeats: list[Repeat] = []
    failed = False
    for i in range(args.repeat):
        r = one_repeat(data, args.as_of, i)
        repeats.append(r)
        problems = compare(r.manifest, r.reference)
        status = "counts agree" if not problems else f"{len(problems)} COUNT MISMATCHES"
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"repeat {i + 1}: pandas {r.pandas_seconds:.2f} s, duckdb {r.duckdb_seconds:.2f} s: {status} "
            f"(load average {load} on {os.cpu_count()} cores)",
            flush=True,
        )
        for problem in problems:
            print(f"  MISMATCH {problem}", file=sys.stderr)
        failed = failed or bool(problems)
    ratio = report(args.rows, repeats)
    if args.json:
        figures: dict[str, Any] = {
            "rows": args.rows,
            "seed": args.seed,
            "median_ratio": round(ratio, 3),
            "counts_agree": not failed,
            "repeats": [
                {
                    "pandas_seconds": round(r.pandas_seconds, 3),
                    "duckdb_seconds": round(r.duckdb_seconds, 3),
                    "pandas_layers": r.manifest.seconds.model_dump() if r.manifest.seconds else None,
                    "duckdb_layers": r.reference.seconds,
                    "pandas_peak_bytes": r.manifest.peak_memory_bytes,
                    "duckdb_peak_bytes": r.duckdb_peak_bytes,
                }
                for r in repeats
            ],
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if failed:
        print(
            "\n!!! PANDAS AND THE DUCKDB REFERENCE DISAGREE ON COUNTS (see MISMATCH lines above) !!!", file=sys.stderr
        )
        return 1
    print("counts agree (every dataset, every rule, every Gold table)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
