"""Retention on a folder-backed lake: orphans past the longest run, runs beyond the newest N, never a named run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs.pandas_engine.run import execute_run
from jobs.retention import Expired, RetentionRefused, benchmark_runs, delete, plan, protected_runs, report
from jobs.runs import RunRequest
from tests.landing import BUCKETS, LANDING
from tests.rule_cases import REFERENCE_DATE
from twinlake.benchmarks import BenchmarkResults, BenchmarkRow, benchmark_file, make_bench_id
from twinlake.catalog import Lake, RunRef
from twinlake.inputs import list_landing
from twinlake.layout import Engine, RunLayout, engine_pointer, make_run_id
from twinlake.manifest import LatestRunPointer
from twinlake.pointer import commit_pointer, read_pointer
from twinlake.store import LocalStore

NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def make_runs(store: LocalStore, count: int) -> list[str]:
    """`count` succeeded Pandas runs, a minute apart, the last one two hours before NOW; oldest first."""
    inputs = list_landing(store, LANDING)
    started = [NOW - 2 * HOUR - timedelta(minutes=count - i) for i in range(count)]
    return [
        execute_run(store, LANDING, BUCKETS, RunRequest(inputs, REFERENCE_DATE, t)).manifest.run_id for t in started
    ]


def orphan(store: LocalStore, started_at: datetime, engine: Engine = Engine.PANDAS) -> str:
    """What a run killed during Silver leaves: Bronze and Silver parts, no Gold, no manifest."""
    run_id = make_run_id(started_at, "ab" * 32)
    layout = RunLayout(BUCKETS, engine, run_id)
    store.put(BUCKETS.bronze, layout.bronze("clients").key + "part-0.parquet", b"x" * 1000)
    store.put(BUCKETS.silver, layout.silver("clients").key + "part-0.parquet", b"y" * 500)
    return run_id


def expired_ids(expired: list[Expired]) -> dict[str, str]:
    return {e.run.run_id: e.status for e in expired}


def test_runs_beyond_the_newest_n_and_old_orphans_expire_and_nothing_else(store: LocalStore) -> None:
    runs = make_runs(store, 5)
    old, young = orphan(store, NOW - 3 * HOUR), orphan(store, NOW - timedelta(minutes=10))
    lake = Lake(store, BUCKETS)
    expired = plan(lake, keep=3, orphan_age=HOUR, now=NOW, protected=protected_runs(lake))
    assert expired_ids(expired) == {runs[0]: "succeeded", runs[1]: "succeeded", old: "orphan"}
    assert young not in expired_ids(expired)  # may still be running: younger than the longest run
    (stale,) = [e for e in expired if e.status == "orphan"]
    assert (stale.objects, stale.bytes) == (2, 1500)
    assert "would delete 3 runs" in report(expired, applied=False)


def test_pointed_and_benchmarked_runs_are_never_deleted(store: LocalStore) -> None:
    runs = make_runs(store, 4)
    where = engine_pointer(BUCKETS.gold, Engine.PANDAS)
    current = read_pointer(store, where)
    assert current is not None and current[0].run_id == runs[-1]
    # an old run named by the engine pointer (e.g. newer runs of other input sets failed) and by a benchmark
    commit_pointer(store, where, LatestRunPointer.for_run(BUCKETS.gold, Engine.PANDAS, runs[0]), current[1])
    bench_id = make_bench_id(NOW, "b1b1b1")
    row = BenchmarkRow(
        engine="pandas",
        bench_id=bench_id,
        rows_per_file=10,
        repeat=1,
        run_id=runs[1],
        status="succeeded",
        cpu_count=2,
        total_sec=1.0,
    )
    duckdb = BenchmarkRow(
        engine="duckdb", bench_id=bench_id, rows_per_file=10, repeat=1, status="succeeded", cpu_count=2, total_sec=1.0
    )
    results = BenchmarkResults(
        bench_id=bench_id,
        started_at=NOW,
        finished_at=NOW,
        rows_per_file=[10],
        repeats=1,
        seed=1,
        cpu_count=2,
        rows=[row, duckdb],
    )
    where = benchmark_file(BUCKETS.gold, bench_id, "results.json")
    store.put(where.bucket, where.key, results.to_json())
    store.put(BUCKETS.gold, f"benchmarks/{make_bench_id(NOW, 'c2c2c2')}/landing-before/clients.csv", b"x")  # running
    lake = Lake(store, BUCKETS)
    assert benchmark_runs(lake) == {RunRef(Engine.PANDAS, runs[1])}
    protected = protected_runs(lake)
    assert {RunRef(Engine.PANDAS, runs[0]), RunRef(Engine.PANDAS, runs[1])} <= protected
    assert expired_ids(plan(lake, keep=1, orphan_age=HOUR, now=NOW, protected=protected)) == {runs[2]: "succeeded"}


def test_an_unreadable_benchmark_result_stops_retention(store: LocalStore) -> None:
    make_runs(store, 2)
    store.put(BUCKETS.gold, f"benchmarks/{make_bench_id(NOW, 'd3d3d3')}/results.json", b"{not json")
    with pytest.raises(RetentionRefused, match="may name any run"):
        protected_runs(Lake(store, BUCKETS))


def test_deleting_removes_the_manifest_and_every_layer_and_readers_never_list_it(store: LocalStore) -> None:
    runs = make_runs(store, 3)
    lake = Lake(store, BUCKETS)
    (first,) = plan(lake, keep=2, orphan_age=HOUR, now=NOW, protected=protected_runs(lake))
    assert {f.bucket for f in first.folders} == {BUCKETS.bronze, BUCKETS.silver, BUCKETS.gold}
    delete(lake, first)
    for bucket in (BUCKETS.bronze, BUCKETS.silver, BUCKETS.gold):
        assert store.list(bucket, f"pandas/{runs[0]}/") == []
    fresh = Lake(store, BUCKETS)
    assert [m.run_id for m in fresh.runs(Engine.PANDAS)] == [runs[2], runs[1]]
    assert plan(fresh, keep=2, orphan_age=HOUR, now=NOW, protected=protected_runs(fresh)) == []


def test_a_deletion_that_stopped_after_the_manifest_leaves_an_orphan_the_next_pass_removes(store: LocalStore) -> None:
    runs = make_runs(store, 2)
    lake = Lake(store, BUCKETS)
    assert len(plan(lake, keep=1, orphan_age=HOUR, now=NOW, protected=protected_runs(lake))) == 1
    manifest = RunLayout(BUCKETS, Engine.PANDAS, runs[0]).manifest
    store.delete(manifest.bucket, manifest.key)  # retention killed right after deleting the manifest
    again = Lake(store, BUCKETS)
    assert expired_ids(plan(again, keep=1, orphan_age=HOUR, now=NOW, protected=protected_runs(again))) == {
        runs[0]: "orphan"
    }


def test_keep_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    from jobs.retention import main

    assert main(["--keep", "0"]) == 2
    assert "--keep" in capsys.readouterr().err
