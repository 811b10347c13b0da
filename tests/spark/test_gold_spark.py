"""Spark Gold on hand-made Silver rows, held to the Pandas engine's Gold on the same rows (edge cases the
generated equivalence data never has)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from jobs.pandas_engine.gold import build_gold as pandas_gold
from jobs.spark_engine.gold import build_gold as spark_gold
from jobs.spark_engine.spark_schema import literal_frame, silver_schema
from tests.silver_frames import CLIENT_ROWS, clients, promotions, purchases, quality
from twinlake.datasets import DATASETS, DatasetName
from twinlake.gold import GOLD_TABLES

pytestmark = pytest.mark.spark


def test_no_purchases_and_no_promotions_give_the_pandas_tables(spark: Any, tmp_path: Path) -> None:
    counts = quality({"clients": len(CLIENT_ROWS)})
    expected = pandas_gold(clients(CLIENT_ROWS), purchases([]), promotions([]), counts)
    lineage = [(*row, "clients.csv", "etag", i + 1) for i, row in enumerate(CLIENT_ROWS)]
    silver = {name: silver_schema(DATASETS[name]) for name in DatasetName}
    got = spark_gold(
        spark,
        literal_frame(spark, lineage, silver[DatasetName.CLIENTS]),
        literal_frame(spark, [], silver[DatasetName.PURCHASES]),
        literal_frame(spark, [], silver[DatasetName.PROMOTIONS]),
        counts,
    )
    assert set(got) == {t.name for t in GOLD_TABLES}
    for name, frame in got.items():
        frame.coalesce(1).write.parquet(str(tmp_path / name))
        table = pq.read_table(str(tmp_path / name)).replace_schema_metadata(None)
        assert table.equals(expected[name]), name
    kpi = pq.read_table(str(tmp_path / "kpi_global")).to_pylist()
    assert [(r["total_orders"], r["unique_customers"], str(r["total_revenue"])) for r in kpi] == [(0, 0, "0.00")]
