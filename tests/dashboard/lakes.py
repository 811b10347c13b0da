"""Lakes for the dashboard's tests, written by the real Pandas engine from small generated data."""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jobs.pandas_engine.run import execute_run
from jobs.runs import RunRequest
from producers.generate import GeneratorConfig, write
from tests.landing import BUCKETS, LANDING, csv_bytes
from tests.rule_cases import BASE_ROWS, REFERENCE_DATE
from twinlake.benchmarks import (
    BenchmarkPointer,
    BenchmarkResults,
    BenchmarkRow,
    benchmark_file,
    latest_benchmark,
    make_bench_id,
)
from twinlake.datasets import DatasetName
from twinlake.inputs import list_landing
from twinlake.layout import Engine, RunLayout
from twinlake.manifest import RunManifest, write_manifest
from twinlake.pointer import publish_run
from twinlake.store import ObjectStore
from twinlake.tables import read_table

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
# A client whose name is a spreadsheet formula (and rejected: no email), to check it stays text.
FORMULA_NAME = '=HYPERLINK("http://example.com/steal","click me")'
FORMULA_CLIENT_ID = "900001"


@dataclass
class SampleLake:
    """A folder-backed lake and the runs written into it, oldest first."""

    root: Path
    store: ObjectStore
    runs: list[RunManifest] = field(default_factory=list)


def land(store: ObjectStore, folder: Path, *, rows: int, seed: int) -> None:
    """Replace the landing bucket's files with a generated data set (and one client named like a formula)."""
    store.delete_prefix(LANDING, "")
    write(GeneratorConfig(rows=rows, seed=seed, as_of=REFERENCE_DATE), folder)
    for dataset in DatasetName:
        store.put(LANDING, f"{dataset}.csv", (folder / f"{dataset}.csv").read_bytes())
    formula = {**BASE_ROWS[DatasetName.CLIENTS], "client_id": FORMULA_CLIENT_ID, "name": FORMULA_NAME, "email": ""}
    store.put(LANDING, "clients/formula.csv", csv_bytes(DatasetName.CLIENTS, [formula]))


def run_pandas(lake: SampleLake, started_at: datetime) -> RunManifest:
    request = RunRequest(list_landing(lake.store, LANDING), REFERENCE_DATE, started_at)
    manifest = execute_run(lake.store, LANDING, BUCKETS, request).manifest
    lake.runs.append(manifest)
    return manifest


def two_runs(lake: SampleLake, scratch: Path) -> None:
    """Two succeeded Pandas runs over two different generated data sets, an hour apart."""
    land(lake.store, scratch / "first", rows=300, seed=11)
    run_pandas(lake, T0)
    land(lake.store, scratch / "second", rows=500, seed=12)
    run_pandas(lake, T0 + timedelta(hours=1))


def fail_next_run(lake: SampleLake, started_at: datetime) -> RunManifest:
    """A run that fails: an empty clients file lands beside the others."""
    lake.store.put(LANDING, "clients/empty.csv", b"")
    failed = run_pandas(lake, started_at)
    assert failed.status == "failed"
    return failed


def copy_as_spark(lake: SampleLake, manifest: RunManifest, *, recorded_hashes: bool = True) -> RunManifest:
    """The same run's Gold under the Spark engine's folder, with its manifest (and pointer): a second engine's copy.

    Without `recorded_hashes` the manifest carries no Gold hashes, so readers compute them from the stored tables.
    """
    source = RunLayout(BUCKETS, Engine.PANDAS, manifest.run_id).gold_prefix
    target = RunLayout(BUCKETS, Engine.SPARK, manifest.run_id)
    for obj in lake.store.list(source.bucket, source.key):
        if not obj.key.endswith("_manifest.json"):
            lake.store.copy(source.bucket, obj.key, target.gold_prefix.bucket, obj.key.replace("pandas/", "spark/", 1))
    update: dict[str, object] = {"engine": Engine.SPARK}
    if not recorded_hashes:
        update["gold_table_hashes"] = {}
    spark = manifest.model_copy(update=update)
    write_manifest(lake.store, target, spark)
    publish_run(lake.store, BUCKETS.gold, spark)
    lake.runs.append(spark)
    return spark


def tamper(lake: SampleLake, engine: Engine, run_id: str, table: str = "kpi_by_country") -> None:
    """One cent more revenue in the first row of a stored Gold table."""
    where = RunLayout(BUCKETS, engine, run_id).gold(table)
    stored = read_table(lake.store, where)
    revenue = stored.column("revenue").to_pylist()
    revenue[0] += type(revenue[0])("0.01")
    changed = stored.set_column(
        stored.column_names.index("revenue"), "revenue", pa.array(revenue, stored.schema.field("revenue").type)
    )
    parts = [o.key for o in lake.store.list(where.bucket, where.key) if o.key.endswith(".parquet")]
    for key in parts[1:]:
        lake.store.delete(where.bucket, key)
    sink = io.BytesIO()
    pq.write_table(changed, sink)
    lake.store.put(where.bucket, parts[0], sink.getvalue())


def copy_lake(template: SampleLake, root: Path) -> SampleLake:
    """A private copy of a lake folder (tests that change a lake do it on a copy)."""
    from twinlake.store import LocalStore

    shutil.copytree(template.root, root)
    return SampleLake(root, LocalStore(root), list(template.runs))


def write_benchmark(
    store: ObjectStore, gold_bucket: str, runs: list[RunManifest], error: str | None = None
) -> BenchmarkResults:
    """Results in the benchmark contract (and its pointer), with the layer times of real runs: per run a Pandas
    lane, a Spark lane three times slower, and a failed DuckDB lane carrying `error`."""
    started = max(r.finished_at for r in runs) + timedelta(minutes=1)
    bench_id = make_bench_id(started, "abc123")
    rows = []
    for scale, run in enumerate(runs, start=1):
        s = run.seconds
        assert s is not None
        base = {"bench_id": bench_id, "rows_per_file": 1000 * scale, "repeat": 0, "cpu_count": 2}
        for engine, factor in (("pandas", 1.0), ("spark", 3.0)):
            timed = {
                "bronze_sec": s.bronze * factor,
                "silver_sec": s.silver * factor,
                "gold_sec": s.gold * factor,
                "total_sec": s.total * factor,
                "total_vs_pandas_ratio": factor,
            }
            rows.append(
                BenchmarkRow.model_validate(
                    {"engine": engine, "run_id": run.run_id, "status": "succeeded", "verified": True, **timed, **base}
                )
            )
        rows.append(BenchmarkRow.model_validate({"engine": "duckdb", "status": "failed", "error": error, **base}))
    results = BenchmarkResults(
        bench_id=bench_id,
        started_at=started,
        finished_at=started + timedelta(minutes=3),
        rows_per_file=sorted({r.rows_per_file for r in rows}),
        repeats=1,
        seed=7,
        cpu_count=2,
        rows=rows,
    )
    where = benchmark_file(gold_bucket, bench_id, "results.json")
    store.put(where.bucket, where.key, results.to_json())
    pointer = BenchmarkPointer(bench_id=bench_id, generated_at=results.finished_at, results=where.key)
    latest = latest_benchmark(gold_bucket)
    store.put(latest.bucket, latest.key, pointer.to_json())
    return results
