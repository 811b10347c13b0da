"""Verification before any figure counts: the engines' Gold tables and counts, and the DuckDB reference's counts.

The "spark" run here is a copy of a real Pandas run written under the other engine's layout, Gold table by Gold
table, with a manifest whose hashes are computed from the tables as stored: exactly what an engine records. A
tampered copy (one Gold value changed) must make the drop unverified, naming the table.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from benchmarks.duckdb_reference import ReferenceResult, Source, run_reference
from jobs.benchmark.verify import verify_drop
from jobs.pandas_engine.run import execute_run
from jobs.runs import RunRequest
from tests.landing import BUCKETS, LANDING
from tests.rule_cases import REFERENCE_DATE
from twinlake.catalog import Lake
from twinlake.compare import GoldHashes
from twinlake.datasets import DatasetName
from twinlake.gold import GOLD_TABLES, GOLD_TABLES_BY_NAME
from twinlake.inputs import list_landing
from twinlake.layout import Engine, RunLayout
from twinlake.manifest import RunManifest, write_manifest
from twinlake.store import LocalStore
from twinlake.tables import read_table, stored_table_hash

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


def pandas_run(store: LocalStore) -> RunManifest:
    request = RunRequest(list_landing(store, LANDING), REFERENCE_DATE, T0)
    return execute_run(store, LANDING, BUCKETS, request).manifest


def reference(store: LocalStore, tmp_path: Path) -> ReferenceResult:
    sources = [Source(i.dataset, i.key, i.etag, store.root / LANDING / i.key) for i in list_landing(store, LANDING)]
    return run_reference(sources, tmp_path / "duckdb", REFERENCE_DATE, threads=1)


def hashes(store: LocalStore) -> GoldHashes:
    return GoldHashes(Lake(store, BUCKETS))


def twin(store: LocalStore, run: RunManifest, tamper: str | None = None) -> RunManifest:
    """The run copied under the Spark engine's layout (one Gold value changed in `tamper`), recorded like a run."""
    source = RunLayout(BUCKETS, Engine.PANDAS, run.run_id)
    target = RunLayout(BUCKETS, Engine.SPARK, run.run_id)
    store.delete_prefix(BUCKETS.gold, target.gold_prefix.key)
    for table in GOLD_TABLES:
        data = read_table(store, source.gold(table.name))
        if table.name == tamper:
            column = next(f.name for f in data.schema if pa.types.is_integer(f.type) or pa.types.is_decimal(f.type))
            bumped = pc.add(data.column(column), pa.scalar(1, data.schema.field(column).type))
            data = data.set_column(data.schema.get_field_index(column), column, bumped)
        sink = io.BytesIO()
        pq.write_table(data, sink)
        where = target.gold(table.name)
        store.put(where.bucket, where.key + "part-00000.parquet", sink.getvalue())
    hashes = {t.name: stored_table_hash(store, target.gold(t.name), t) for t in GOLD_TABLES}
    manifest = run.model_copy(update={"engine": Engine.SPARK, "gold_table_hashes": hashes})
    write_manifest(store, target, manifest)
    return manifest


def test_identical_runs_agreeing_with_the_reference_are_verified(store: LocalStore, tmp_path: Path) -> None:
    pandas = pandas_run(store)
    spark = twin(store, pandas)
    verdict = verify_drop(hashes(store), {Engine.PANDAS: pandas, Engine.SPARK: spark}, reference(store, tmp_path))
    assert verdict.verified, verdict.problems


@pytest.mark.parametrize("table", ["kpi_global", "fact_purchase", "sales_by_week"])
def test_a_tampered_gold_table_makes_verification_fail(store: LocalStore, tmp_path: Path, table: str) -> None:
    pandas = pandas_run(store)
    spark = twin(store, pandas, tamper=table)
    assert spark.gold_table_hashes[table] != pandas.gold_table_hashes[table]
    assert table in GOLD_TABLES_BY_NAME
    verdict = verify_drop(hashes(store), {Engine.PANDAS: pandas, Engine.SPARK: spark}, reference(store, tmp_path))
    assert not verdict.verified
    assert verdict.problems == (f"gold table {table}: pandas and spark differ",)


def test_a_count_the_reference_disagrees_with_makes_verification_fail(store: LocalStore, tmp_path: Path) -> None:
    pandas = pandas_run(store)
    spark = twin(store, pandas)
    ref = reference(store, tmp_path)
    ref.counts[str(DatasetName.PURCHASES)]["rows_clean"] += 1
    verdict = verify_drop(hashes(store), {Engine.PANDAS: pandas, Engine.SPARK: spark}, ref)
    assert not verdict.verified
    assert any("purchases.rows_clean: pandas" in p for p in verdict.problems)
    assert any("purchases.rows_clean: spark" in p for p in verdict.problems)


def test_a_missing_or_failed_lane_leaves_the_drop_unverified(store: LocalStore, tmp_path: Path) -> None:
    pandas = pandas_run(store)
    verdict = verify_drop(hashes(store), {Engine.PANDAS: pandas, Engine.SPARK: None}, None)
    assert not verdict.verified
    assert verdict.problems == ("spark: no run of the drop's input set", "duckdb: the reference did not run")
