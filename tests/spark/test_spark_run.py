"""The Spark engine's whole `execute_run` on a LocalStore (tables at file:// URIs) against the Pandas engine's run
on the same landing objects: the same manifest counts, and every table (Silver as sets of rows, Gold row for row)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.runs import RunOutcome, RunRequest
from twinlake.datasets import DatasetName
from twinlake.gold import GOLD_TABLES
from twinlake.inputs import list_landing
from twinlake.layout import Buckets, Engine, Location, RunLayout
from twinlake.store import LocalStore

pytestmark = pytest.mark.spark
REFERENCE = date(2026, 11, 26)
BUCKETS = Buckets(bronze="bronze", silver="silver", gold="gold")


def _table(store: LocalStore, location: Location) -> pa.Table:
    folder = store.root / location.bucket / location.key
    files = sorted(p for p in folder.iterdir() if p.suffix == ".parquet")
    return pa.concat_tables([pq.read_table(p) for p in files]).replace_schema_metadata(None)


def _rows(table: pa.Table) -> set[tuple[Any, ...]]:
    return {tuple(tuple(v) if isinstance(v, list) else v for v in row.values()) for row in table.to_pylist()}


@pytest.fixture(scope="module")
def runs(
    spark: Any, tmp_path_factory: pytest.TempPathFactory, generated_landing: Callable[..., Path]
) -> tuple[LocalStore, RunOutcome, RunOutcome]:
    from jobs.pandas_engine.run import execute_run as pandas_run
    from jobs.spark_engine.run import execute_run as spark_run

    landing = generated_landing(2000, 11, REFERENCE, 0.02)
    store = LocalStore(tmp_path_factory.mktemp("store"))
    for name in DatasetName:
        store.put("landing", f"{name}.csv", (landing / f"{name}.csv").read_bytes())
    request = RunRequest(list_landing(store, "landing"), REFERENCE, datetime(2026, 11, 26, 12, tzinfo=UTC))
    return store, pandas_run(store, "landing", BUCKETS, request), spark_run(spark, store, "landing", BUCKETS, request)


def test_run_succeeds_with_the_pandas_counts(runs: tuple[LocalStore, RunOutcome, RunOutcome]) -> None:
    _, pandas, spark = runs
    assert spark.manifest.succeeded, spark.manifest.error
    assert spark.manifest.engine == Engine.SPARK
    assert spark.manifest.datasets == pandas.manifest.datasets
    assert spark.manifest.gold_row_counts == pandas.manifest.gold_row_counts
    assert set(spark.manifest.gold_row_counts) == {t.name for t in GOLD_TABLES}


def test_both_engines_record_the_same_content_hash_for_every_gold_table(
    runs: tuple[LocalStore, RunOutcome, RunOutcome],
) -> None:
    _, pandas, spark = runs
    assert set(spark.manifest.gold_table_hashes) == {t.name for t in GOLD_TABLES}
    assert spark.manifest.gold_table_hashes == pandas.manifest.gold_table_hashes


def test_run_tables_equal_the_pandas_tables(runs: tuple[LocalStore, RunOutcome, RunOutcome]) -> None:
    store, pandas, spark = runs
    mine = RunLayout(BUCKETS, Engine.SPARK, spark.manifest.run_id)
    theirs = RunLayout(BUCKETS, Engine.PANDAS, pandas.manifest.run_id)
    for name in DatasetName:
        for where in ("silver", "silver_rejected"):
            got, expected = _table(store, getattr(mine, where)(name)), _table(store, getattr(theirs, where)(name))
            assert got.schema.equals(expected.schema), (name, where)
            assert _rows(got) == _rows(expected), (name, where)
    for table in GOLD_TABLES:
        got, expected = _table(store, mine.gold(table.name)), _table(store, theirs.gold(table.name))
        assert got.schema.equals(expected.schema), table.name
        assert got.equals(expected), table.name
