"""One result and timing code path for every lane: rows from a run's manifest or from the DuckDB reference, the
ratios against Pandas, runs that overlapped, and the in-process DuckDB timing.

Shared by the benchmark of the deployed engines (`python -m jobs.benchmark`) and the in-process scripts of
`benchmarks/`: an engine's seconds per layer, total and peak memory always come from its run's own timer (the
manifest, `jobs.runs.LayerTimer`), the reference's from `run_reference`'s timer, and every figure becomes a
`twinlake.benchmarks.BenchmarkRow`, whose validators refuse a time on a failed or timed-out lane.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobs.metrics import peak_rss_bytes, reset_peak_rss
from twinlake.benchmarks import BenchmarkRow, Lane, LaneStatus, Mode
from twinlake.datasets import DatasetName
from twinlake.layout import Engine
from twinlake.manifest import RunManifest

if TYPE_CHECKING:
    from benchmarks.duckdb_reference import ReferenceResult, Source

MIB = 2**20


@dataclass(frozen=True)
class Drop:
    """Which drop of which benchmark a row belongs to."""

    bench_id: str
    rows_per_file: int
    repeat: int
    seed: int
    cpu_count: int
    mode: Mode = "deployed"

    def row(self, engine: Lane | Engine, status: LaneStatus, **fields: Any) -> BenchmarkRow:
        """A validated row of this drop (`fields` may override the drop's `mode`)."""
        drop = {
            "bench_id": self.bench_id,
            "rows_per_file": self.rows_per_file,
            "repeat": self.repeat,
            "seed": self.seed,
            "cpu_count": self.cpu_count,
            "mode": self.mode,
        }
        return BenchmarkRow.model_validate({"engine": engine, "status": status, **drop, **fields})


def _mib(n: int | None) -> float | None:
    return None if n is None else round(n / MIB, 1)


def engine_row(
    drop: Drop,
    manifest: RunManifest,
    *,
    landed_to_pointer: float | None = None,
    process_peak_bytes: int | None = None,
) -> BenchmarkRow:
    """The row of an engine's recorded run: its times and counts if it succeeded, its error if it failed."""
    common: dict[str, Any] = {
        "run_id": manifest.run_id,
        "input_fingerprint": manifest.input_fingerprint,
        "peak_memory_mib": _mib(manifest.peak_memory_bytes),
        "process_peak_mib": _mib(process_peak_bytes),
    }
    if not manifest.succeeded or manifest.seconds is None:
        return drop.row(manifest.engine, "failed", error=manifest.error or "the run recorded no times", **common)
    s = manifest.seconds
    counts = list(manifest.datasets.values())
    rows_in = sum(c.rows_in for c in counts)
    return drop.row(
        manifest.engine,
        "succeeded",
        bronze_sec=s.bronze,
        silver_sec=s.silver,
        gold_sec=s.gold,
        total_sec=s.total,
        landed_to_pointer_sec=None if landed_to_pointer is None else round(landed_to_pointer, 3),
        rows_per_sec=round(rows_in / s.total, 1) if s.total > 0 else None,
        rows_in=rows_in,
        rows_clean=sum(c.rows_clean for c in counts),
        rows_rejected=sum(c.rows_rejected for c in counts),
        **common,
    )


def missing_row(
    drop: Drop, engine: Lane | Engine, status: LaneStatus, error: str, *, input_fingerprint: str | None = None
) -> BenchmarkRow:
    """The row of a lane that has no run to show: it timed out, or failed before recording one."""
    return drop.row(engine, status, error=error, input_fingerprint=input_fingerprint)


def reference_row(drop: Drop, result: ReferenceResult, peak_bytes: int | None = None) -> BenchmarkRow:
    """The row of the in-process DuckDB reference (it makes no run: no run id, no pointer)."""
    s = result.seconds
    counts = list(result.counts.values())
    rows_in = sum(int(c["rows_in"]) for c in counts)
    return drop.row(
        "duckdb",
        "succeeded",
        bronze_sec=s["bronze"],
        silver_sec=s["silver"],
        gold_sec=s["gold"],
        total_sec=s["total"],
        rows_per_sec=round(rows_in / s["total"], 1) if s["total"] > 0 else None,
        rows_in=rows_in,
        rows_clean=sum(int(c["rows_clean"]) for c in counts),
        rows_rejected=sum(int(c["rows_rejected"]) for c in counts),
        peak_memory_mib=_mib(peak_bytes),
        mode="in-process",
    )


def _drop_key(row: BenchmarkRow) -> tuple[str, int, int]:
    return (row.bench_id, row.rows_per_file, row.repeat)


def with_ratios(rows: Iterable[BenchmarkRow]) -> list[BenchmarkRow]:
    """Every succeeded lane's `total_vs_pandas_ratio`: its total seconds over the Pandas lane's total on the same
    drop (Pandas itself 1.0); None where that drop's Pandas lane has no total (failed, timed out, or absent)."""
    rows = list(rows)
    pandas_total = {_drop_key(r): r.total_sec for r in rows if r.engine == "pandas" and r.total_sec}
    out = []
    for r in rows:
        base = pandas_total.get(_drop_key(r))
        ratio = None if base is None or r.total_sec is None else round(r.total_sec / base, 3)
        out.append(r.model_copy(update={"total_vs_pandas_ratio": ratio}))
    return out


def runs_overlap(a: RunManifest | None, b: RunManifest | None) -> bool | None:
    """Whether two runs were in progress at the same time (None when one has no run)."""
    if a is None or b is None:
        return None
    return a.started_at < b.finished_at and b.started_at < a.finished_at


def count_problems(manifest: RunManifest, reference: ReferenceResult) -> list[str]:
    """Every count on which an engine's run and the DuckDB reference disagree: rows in / clean / rejected and every
    rule's count per dataset, every Gold table's row count (empty when they agree)."""
    engine = str(manifest.engine)
    problems: list[str] = []
    for name in DatasetName:
        counts = manifest.datasets.get(name)
        if counts is None:
            problems.append(f"{name}: {engine} recorded no counts")
            continue
        mine = counts.model_dump()
        theirs = reference.counts[str(name)]
        for key in ("rows_in", "rows_clean", "rows_rejected"):
            if mine[key] != theirs[key]:
                problems.append(f"{name}.{key}: {engine} {mine[key]} != duckdb {theirs[key]}")
        for code in sorted(set(mine["rejected_by_rule"]) | set(theirs["rejected_by_rule"])):
            a, b = mine["rejected_by_rule"].get(code, 0), theirs["rejected_by_rule"].get(code, 0)
            if a != b:
                problems.append(f"{name}.rejected_by_rule.{code}: {engine} {a} != duckdb {b}")
    for table in sorted(set(manifest.gold_row_counts) | set(reference.gold_row_counts)):
        a2, b2 = manifest.gold_row_counts.get(table), reference.gold_row_counts.get(table)
        if a2 != b2:
            problems.append(f"gold {table} rows: {engine} {a2} != duckdb {b2}")
    return problems


def time_reference(
    sources: Sequence[Source], reference_date: date, out: Path, *, threads: int = 2
) -> tuple[float, ReferenceResult, int]:
    """Run the DuckDB reference in this process: wall seconds, its result, and this process's peak memory."""
    from benchmarks.duckdb_reference import run_reference

    gc.collect()
    reset_peak_rss()
    start = time.perf_counter()
    result = run_reference(sources, out, reference_date, threads=threads)
    return time.perf_counter() - start, result, peak_rss_bytes()
