"""The benchmark results contract: the CSV columns and their order, rows that cannot lie, the layout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from twinlake.benchmarks import (
    CSV_COLUMNS,
    LATEST_NAME,
    SEED_COLUMNS,
    BenchmarkPointer,
    BenchmarkResults,
    BenchmarkRow,
    benchmark_file,
    landing_backup,
    latest_benchmark,
    make_bench_id,
    publish_benchmark,
    read_benchmark_pointer,
    rows_from_csv,
    rows_to_csv,
)
from twinlake.pointer import PointerConflict
from twinlake.store import LocalStore, PreconditionFailed

T0 = datetime(2026, 12, 1, 10, 15, tzinfo=UTC)
BENCH = make_bench_id(T0, "1a2b3c")


def row(**overrides: object) -> BenchmarkRow:
    fields: dict[str, object] = {
        "engine": "pandas",
        "bronze_sec": 1.0,
        "silver_sec": 2.0,
        "gold_sec": 0.5,
        "total_sec": 3.5,
        "total_vs_pandas_ratio": 1.0,
        "bench_id": BENCH,
        "rows_per_file": 10_000,
        "repeat": 0,
        "run_id": "20261201T101600Z-abcdef",
        "status": "succeeded",
        "verified": True,
        "cpu_count": 2,
    }
    fields.update(overrides)
    return BenchmarkRow.model_validate(fields)


def test_the_course_project_columns_come_first_in_order() -> None:
    assert (
        CSV_COLUMNS[:6]
        == SEED_COLUMNS
        == (
            "engine",
            "bronze_sec",
            "silver_sec",
            "gold_sec",
            "total_sec",
            "total_vs_pandas_ratio",
        )
    )
    for name in [
        "bench_id",
        "rows_per_file",
        "repeat",
        "run_id",
        "input_fingerprint",
        "landed_to_pointer_sec",
        "peak_memory_mib",
        "rows_per_sec",
        "status",
        "verified",
        "concurrent",
        "cpu_count",
    ]:
        assert name in CSV_COLUMNS
    assert len(set(CSV_COLUMNS)) == len(CSV_COLUMNS)


@pytest.mark.parametrize("status", ["failed", "timeout"])
def test_a_failed_or_timed_out_lane_carries_no_time_and_is_not_verified(status: str) -> None:
    with pytest.raises(ValidationError, match="carries no time"):
        row(status=status, verified=False)
    with pytest.raises(ValidationError, match="cannot be verified"):
        row(status=status, bronze_sec=None, silver_sec=None, gold_sec=None, total_sec=None, total_vs_pandas_ratio=None)
    untimed = row(
        status=status,
        verified=False,
        bronze_sec=None,
        silver_sec=None,
        gold_sec=None,
        total_sec=None,
        total_vs_pandas_ratio=None,
        error="boom",
    )
    assert untimed.total_sec is None


def test_csv_round_trip_keeps_missing_values_missing() -> None:
    rows = [
        row(),
        row(engine="spark", total_vs_pandas_ratio=6.2, concurrent=True),
        row(engine="duckdb", run_id=None, verified=True),
    ]
    data = rows_to_csv(rows)
    assert data.decode().splitlines()[0] == ",".join(CSV_COLUMNS)
    assert rows_from_csv(data) == rows
    with pytest.raises(ValueError, match="not a benchmark results file"):
        rows_from_csv(b"engine,total_sec\npandas,1\n")


def test_results_json_and_pointer_round_trip() -> None:
    results = BenchmarkResults(
        bench_id=BENCH,
        started_at=T0,
        finished_at=T0,
        rows_per_file=[10_000],
        repeats=1,
        seed=42,
        cpu_count=2,
        rows=[row()],
    )
    assert BenchmarkResults.from_json(results.to_json()) == results
    assert results.verified
    assert not results.model_copy(update={"rows": [row(verified=False)]}).verified
    pointer = BenchmarkPointer(
        bench_id=BENCH, generated_at=T0, results=benchmark_file("gold", BENCH, "results.json").key
    )
    assert BenchmarkPointer.from_json(pointer.to_json()) == pointer


def test_layout() -> None:
    assert BENCH == "20261201T101500Z-1a2b3c"
    assert benchmark_file("gold", BENCH, "results.csv").uri() == f"s3://gold/benchmarks/{BENCH}/results.csv"
    assert landing_backup("gold", BENCH).key == f"benchmarks/{BENCH}/landing-before/"
    assert latest_benchmark("gold").key == "benchmarks/latest.json"
    with pytest.raises(ValueError, match="not a benchmark id"):
        make_bench_id(T0, "XYZ")


def pointer_to(minute: int, token: str = "1a2b3c") -> BenchmarkPointer:
    bench = make_bench_id(T0 + timedelta(minutes=minute), token)
    return BenchmarkPointer(
        bench_id=bench, generated_at=T0 + timedelta(minutes=minute + 5), results=f"benchmarks/{bench}/results.json"
    )


def test_latest_json_moves_forward_only(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert read_benchmark_pointer(store, "gold") is None
    assert publish_benchmark(store, "gold", pointer_to(10)) is True
    assert publish_benchmark(store, "gold", pointer_to(10)) is False  # the same benchmark again: left alone
    assert publish_benchmark(store, "gold", pointer_to(5)) is False  # an older benchmark never moves it back
    assert publish_benchmark(store, "gold", pointer_to(20)) is True
    found = read_benchmark_pointer(store, "gold")
    assert found is not None and found[0] == pointer_to(20)
    assert latest_benchmark("gold").key.endswith(LATEST_NAME)


class RacingStore(LocalStore):
    """Another writer moves the pointer between our read and our conditional write, `races` times."""

    def __init__(self, root: Path, races: int) -> None:
        super().__init__(root)
        self.races = races

    def put_if_match(self, bucket: str, key: str, body: bytes, etag: str) -> str:
        if self.races:
            self.races -= 1
            self.put(bucket, key, pointer_to(1, f"{self.races:06x}").to_json())  # an older one: still a conflict
            raise PreconditionFailed(f"{key}: etag changed")
        return super().put_if_match(bucket, key, body, etag)


def test_latest_json_retries_a_lost_conditional_write_then_gives_up(tmp_path: Path) -> None:
    store = RacingStore(tmp_path, races=2)
    publish_benchmark(store, "gold", pointer_to(0))
    assert publish_benchmark(store, "gold", pointer_to(30)) is True
    found = read_benchmark_pointer(store, "gold")
    assert found is not None and found[0].bench_id == pointer_to(30).bench_id
    store.races = 10
    with pytest.raises(PointerConflict, match="expected"):
        publish_benchmark(store, "gold", pointer_to(40), retries=2)
