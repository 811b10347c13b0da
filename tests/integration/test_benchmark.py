"""The benchmark on the local stack: both engines as real processes, 3 x 2,000 rows, one repeat.

`run_benchmark` as `make bench` runs it (engines started when not running, stopped afterwards): the results are in
the lake with both engines verified, `gold/benchmarks/latest.json` names the benchmark, and landing afterwards holds
exactly the objects it held before, keys and contents (here an incomplete input set a user left, so that no engine
runs on it once it is back, and a file of no dataset).
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from rich.console import Console

from jobs.benchmark.run import EXIT_OK, run_benchmark
from jobs.benchmark.sweep import BenchmarkConfig
from twinlake.benchmarks import (
    BenchmarkResults,
    benchmark_file,
    landing_backup,
    read_benchmark_pointer,
    rows_from_csv,
)
from twinlake.s3 import s3_client
from twinlake.settings import Settings, StoreRole
from twinlake.store import S3Store

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow]
pytest.importorskip("pyspark", reason="the `spark` extra is not installed")


def landing(store: S3Store, bucket: str) -> dict[str, bytes]:
    return {o.key: store.get(bucket, o.key).body for o in store.list(bucket)}


def test_the_benchmark_runs_both_engines_verifies_them_and_gives_landing_back(
    stack_settings: Settings, tmp_path: Path
) -> None:
    store = S3Store(s3_client(stack_settings))  # the engines' keys: read landing and gold
    user = S3Store(s3_client(Settings.load(role=StoreRole.UPLOADER)))  # what a user lands
    bucket = stack_settings.landing_bucket
    mine = uuid.uuid4().hex[:8]
    ours = {
        f"clients/user-{mine}.csv": b"client_id,name,email,signup_date,country\n1,Ann,a@b.io,2026-01-02,FR\n",
        f"notes/{mine}.txt": b"not a dataset",
    }
    for key, body in ours.items():
        user.put(bucket, key, body)
    try:
        check_benchmark(stack_settings, store, landing(store, bucket), tmp_path)
    finally:
        for key in ours:
            user.delete(bucket, key)


def check_benchmark(stack_settings: Settings, store: S3Store, before: dict[str, bytes], tmp_path: Path) -> None:
    bucket = stack_settings.landing_bucket
    settings = Settings.load(role=StoreRole.BENCHMARK)
    config = BenchmarkConfig(
        rows=(2000,),
        repeats=1,
        timeout=420,
        cache=tmp_path / "cache",
        local_out=tmp_path / "data",
        start_engines=True,
        logs=tmp_path / "logs",
        checkpoint=tmp_path / "checkpoint",
    )
    output = io.StringIO()
    outcome = run_benchmark(config, settings, Console(file=output, width=200))
    logs = "\n".join(p.read_text(errors="replace")[-3000:] for p in (tmp_path / "logs").glob("*.log"))
    assert outcome.exit_code == EXIT_OK, f"{output.getvalue()}\n{logs}"
    results = outcome.results
    assert results is not None and results.complete and results.verified

    gold = stack_settings.gold_bucket
    where = benchmark_file(gold, results.bench_id, "results.csv")
    rows = {r.engine: r for r in rows_from_csv(store.get(where.bucket, where.key).body)}
    assert set(rows) == {"pandas", "spark", "duckdb"}
    for engine in ("pandas", "spark"):
        row = rows[engine]
        assert row.status == "succeeded" and row.verified, row
        assert row.landed_to_pointer_sec is not None and row.total_sec is not None
        assert row.landed_to_pointer_sec >= row.total_sec - 1.0  # the pointer moves after the run
        assert row.rows_in == 6000 and row.run_id and row.input_fingerprint == rows["pandas"].input_fingerprint
    assert rows["duckdb"].verified and rows["duckdb"].rows_in == 6000
    assert rows["spark"].total_vs_pandas_ratio == round(rows["spark"].total_sec / rows["pandas"].total_sec, 3)  # type: ignore[operator]
    stored = BenchmarkResults.from_json(
        store.get(gold, benchmark_file(gold, results.bench_id, "results.json").key).body
    )
    assert stored.rows == results.rows and stored.landing_restored

    pointer = read_benchmark_pointer(store, gold)
    assert pointer is not None and pointer[0].bench_id == results.bench_id

    assert landing(store, bucket) == before, "landing must hold exactly what it held before"
    backup = landing_backup(gold, results.bench_id)
    kept = {o.key.removeprefix(backup.key): store.get(gold, o.key).body for o in store.list(gold, backup.key)}
    assert kept == before
    assert (tmp_path / "data" / "benchmark_results.csv").read_bytes() == store.get(where.bucket, where.key).body
    assert {p.name for p in (tmp_path / "data" / "benchmark").glob("*.png")} == {
        "layers.png",
        "scaling.png",
        "landed_to_pointer.png",
    }
    text = output.getvalue()
    assert "landing: restored" in text and f"latest.json now names {results.bench_id}" in text
