"""The benchmark's rows: ratio arithmetic, no time on a failed or timed-out lane, overlap, the CSV schema."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from jobs.benchmark.lanes import Drop, engine_row, missing_row, runs_overlap, with_ratios
from jobs.benchmark.report import outputs
from jobs.benchmark.verify import Verdict
from twinlake.benchmarks import (
    CSV_COLUMNS,
    RESULTS_CSV,
    SEED_COLUMNS,
    TIME_COLUMNS,
    BenchmarkResults,
    BenchmarkRow,
    make_bench_id,
    rows_from_csv,
)
from twinlake.datasets import DatasetName
from twinlake.layout import Engine, fingerprint, make_run_id
from twinlake.manifest import DatasetCounts, InputObject, LayerSeconds, RunManifest

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
BENCH = make_bench_id(T0, "abc123")
INPUTS = [InputObject(key=f"{d}.csv", etag="e" * 32, size=10, dataset=d) for d in DatasetName]
FP = fingerprint((i.key, i.etag) for i in INPUTS)


def drop(rows: int = 10_000, repeat: int = 0) -> Drop:
    return Drop(BENCH, rows, repeat, 42 + repeat, 2)


def manifest(
    engine: Engine, total: float, *, start: int = 0, seconds: float = 5.0, failed: bool = False
) -> RunManifest:
    started = T0 + timedelta(seconds=start)
    counts = DatasetCounts(rows_in=100, rows_clean=90, rows_rejected=10, rejected_by_rule={"invalid_amount": 10})
    return RunManifest(
        run_id=make_run_id(started, FP),
        engine=engine,
        versions={},
        status="failed" if failed else "succeeded",
        error="BadInputFile: clients.csv: empty object" if failed else None,
        inputs=INPUTS,
        input_fingerprint=FP,
        reference_date=date(2026, 12, 1),
        started_at=started,
        finished_at=started + timedelta(seconds=seconds),
        datasets={} if failed else {d: counts for d in DatasetName},
        seconds=LayerSeconds(bronze=total / 4, silver=total / 2, gold=total / 4, total=total),
        peak_memory_bytes=512 * 2**20,
    )


def test_ratio_is_each_lane_total_over_the_pandas_total_of_the_same_drop() -> None:
    rows = [
        engine_row(drop(), manifest(Engine.PANDAS, 2.0)),
        engine_row(drop(), manifest(Engine.SPARK, 10.0)),
        engine_row(drop(rows=100_000), manifest(Engine.PANDAS, 4.0)),
        engine_row(drop(rows=100_000), manifest(Engine.SPARK, 6.0)),
        engine_row(drop(repeat=1), manifest(Engine.SPARK, 7.0)),  # a drop whose Pandas lane is missing
    ]
    ratios = [r.total_vs_pandas_ratio for r in with_ratios(rows)]
    assert ratios == [1.0, 5.0, 1.0, 1.5, None]


def test_no_ratio_against_a_failed_pandas_lane_and_none_on_a_failed_lane() -> None:
    rows = [
        engine_row(drop(), manifest(Engine.PANDAS, 2.0, failed=True)),
        engine_row(drop(), manifest(Engine.SPARK, 10.0)),
        missing_row(drop(rows=5), "pandas", "succeeded", "-").model_copy(update={"total_sec": 2.0}),
        missing_row(drop(rows=5), "spark", "timeout", "no spark run within 10 s"),
    ]
    assert [r.total_vs_pandas_ratio for r in with_ratios(rows)] == [None, None, 1.0, None]


def test_rows_per_sec_and_counts_come_from_the_manifest() -> None:
    row = engine_row(drop(), manifest(Engine.PANDAS, 3.0), landed_to_pointer=5.1234, process_peak_bytes=2**30)
    assert (row.rows_in, row.rows_clean, row.rows_rejected) == (300, 270, 30)
    assert row.rows_per_sec == 100.0
    assert row.landed_to_pointer_sec == 5.123
    assert (row.peak_memory_mib, row.process_peak_mib) == (512.0, 1024.0)
    assert (row.bronze_sec, row.silver_sec, row.gold_sec, row.total_sec) == (0.75, 1.5, 0.75, 3.0)


@pytest.mark.parametrize("status", ["failed", "timeout"])
def test_failed_and_timed_out_rows_never_carry_a_time(status: str) -> None:
    rows = [
        missing_row(drop(), "spark", status, "no spark run within 900 s", input_fingerprint=FP),  # type: ignore[arg-type]
        engine_row(drop(), manifest(Engine.SPARK, 9.0, failed=True), landed_to_pointer=3.0),
    ]
    for row in with_ratios(rows):
        assert row.status in ("failed", "timeout")
        assert all(getattr(row, c) is None for c in TIME_COLUMNS), row
        assert row.error
    # even a drop that verified cannot mark them verified
    assert not any(r.verified for r in Verdict(()).apply(rows))
    with pytest.raises(ValueError, match="carries no time"):
        BenchmarkRow.model_validate({**rows[0].model_dump(), "landed_to_pointer_sec": 1.0})


def test_verdict_verifies_succeeded_rows_only_when_nothing_was_found() -> None:
    rows = [engine_row(drop(), manifest(Engine.PANDAS, 2.0)), engine_row(drop(), manifest(Engine.SPARK, 4.0))]
    assert [r.verified for r in Verdict(()).apply(rows)] == [True, True]
    assert [r.verified for r in Verdict(("gold table kpi_global differs",)).apply(rows)] == [False, False]


def test_runs_overlap() -> None:
    a = manifest(Engine.PANDAS, 1.0, start=0, seconds=10)
    assert runs_overlap(a, manifest(Engine.SPARK, 1.0, start=5, seconds=30)) is True
    assert runs_overlap(a, manifest(Engine.SPARK, 1.0, start=11, seconds=30)) is False
    assert runs_overlap(a, None) is None


def test_results_csv_starts_with_the_course_project_columns_in_order() -> None:
    rows = with_ratios(
        [engine_row(drop(), manifest(Engine.PANDAS, 2.0)), engine_row(drop(), manifest(Engine.SPARK, 8.0))]
    )
    results = BenchmarkResults(
        bench_id=BENCH,
        started_at=T0,
        finished_at=T0,
        rows_per_file=[10_000],
        repeats=1,
        seed=42,
        cpu_count=2,
        rows=rows,
    )
    data = outputs(results)[RESULTS_CSV].decode()
    header = data.splitlines()[0].split(",")
    assert (
        header[: len(SEED_COLUMNS)]
        == list(SEED_COLUMNS)
        == [
            "engine",
            "bronze_sec",
            "silver_sec",
            "gold_sec",
            "total_sec",
            "total_vs_pandas_ratio",
        ]
    )
    assert tuple(header) == CSV_COLUMNS
    assert data.splitlines()[2].split(",")[: len(SEED_COLUMNS)] == ["spark", "2.0", "4.0", "2.0", "8.0", "4.0"]
    assert rows_from_csv(data.encode()) == rows
