"""Comparing two runs: content hashes recorded by the engine, computed for older manifests, and any difference."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq

from jobs.pandas_engine.run import RunOutcome, RunRequest, execute_run
from tests.landing import BUCKETS, LANDING
from tests.rule_cases import REFERENCE_DATE
from twinlake.catalog import Lake
from twinlake.compare import GoldHashes, compare_runs
from twinlake.datasets import DatasetName
from twinlake.gold import GOLD_TABLES, GOLD_TABLES_BY_NAME
from twinlake.inputs import list_landing
from twinlake.layout import Engine, RunLayout
from twinlake.store import LocalStore
from twinlake.tables import read_table, stored_table_hash

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


def run(store: LocalStore, started_at: datetime) -> RunOutcome:
    return execute_run(store, LANDING, BUCKETS, RunRequest(list_landing(store, LANDING), REFERENCE_DATE, started_at))


def test_the_engine_records_the_hash_of_every_gold_table_as_stored(store: LocalStore) -> None:
    manifest = run(store, T0).manifest
    layout = RunLayout(BUCKETS, Engine.PANDAS, manifest.run_id)
    assert set(manifest.gold_table_hashes) == set(GOLD_TABLES_BY_NAME)
    for table in GOLD_TABLES:
        assert manifest.gold_table_hashes[table.name] == stored_table_hash(store, layout.gold(table.name), table)


def test_two_runs_of_the_same_inputs_are_identical(store: LocalStore) -> None:
    a = run(store, T0).manifest
    b = run(store, T0 + timedelta(minutes=1)).manifest
    comparison = compare_runs(GoldHashes(Lake(store, BUCKETS)), a, b)
    assert comparison.same_inputs and comparison.identical
    assert len(comparison.tables) == 15 and all(t.identical for t in comparison.tables)
    assert comparison.differing_counts == []


def test_a_tampered_table_is_reported_and_hashes_are_computed_for_old_manifests(store: LocalStore) -> None:
    a = run(store, T0).manifest
    b = run(store, T0 + timedelta(minutes=1)).manifest
    where = RunLayout(BUCKETS, Engine.PANDAS, b.run_id).gold("kpi_by_country")
    table = read_table(store, where)
    revenue = table.column("revenue").to_pylist()
    revenue[0] += 1
    tampered = table.set_column(1, "revenue", pa.array(revenue, table.schema.field("revenue").type))
    sink = io.BytesIO()
    pq.write_table(tampered, sink)
    store.put(where.bucket, where.key + "part-00000.parquet", sink.getvalue())
    # a manifest written before hashes were recorded: the comparison computes them from the stored tables
    old_style = b.model_copy(update={"gold_table_hashes": {}})
    comparison = compare_runs(GoldHashes(Lake(store, BUCKETS)), a, old_style)
    assert comparison.differing_tables == ["kpi_by_country"]
    assert not comparison.identical
    # a recorded hash is what the engine wrote: comparing recorded hashes reads no table, so it cannot see a
    # change made to the files afterwards
    assert compare_runs(GoldHashes(Lake(store, BUCKETS)), a, b).identical


def test_counts_that_differ_are_named(store: LocalStore) -> None:
    a = run(store, T0).manifest
    purchases = a.datasets[DatasetName.PURCHASES]
    changed = purchases.model_copy(
        update={"rows_clean": purchases.rows_clean - 1, "rows_rejected": purchases.rows_rejected + 1}
    )
    b = a.model_copy(update={"datasets": {**a.datasets, DatasetName.PURCHASES: changed}})
    comparison = compare_runs(GoldHashes(Lake(store, BUCKETS)), a, b)
    assert comparison.differing_counts == ["purchases rows_clean", "purchases rows_rejected"]
    assert comparison.differing_tables == []
