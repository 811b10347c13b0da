"""Reading Parquet tables of the lake (projection, row limit, parts) and the Gold content hash."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from twinlake.gold import KPI_BY_COUNTRY, SALES_BY_WEEK
from twinlake.layout import Location
from twinlake.store import LocalStore
from twinlake.tables import TableNotFound, count_rows, read_table, stored_table_hash, table_content_hash

WHERE = Location("gold", "pandas/r/kpi_by_country/")


def kpi_by_country(rows: list[tuple[str, str, int, int, str]]) -> pa.Table:
    money = pa.decimal128(18, 2)
    return pa.table(
        {
            "country": pa.array([r[0] for r in rows], pa.string()),
            "revenue": pa.array([Decimal(r[1]) for r in rows], money),
            "orders": pa.array([r[2] for r in rows], pa.int64()),
            "customers": pa.array([r[3] for r in rows], pa.int64()),
            "avg_order_value": pa.array([Decimal(r[4]) for r in rows], money),
        }
    )


ROWS = [("France", "10.50", 2, 1, "5.25"), ("Belgium", "3.00", 1, 1, "3.00"), ("Spain", "0.01", 1, 1, "0.01")]


def put_parts(store: LocalStore, where: Location, parts: list[pa.Table], row_group_size: int = 1024) -> None:
    for i, part in enumerate(parts):
        sink = io.BytesIO()
        pq.write_table(part, sink, row_group_size=row_group_size)
        store.put(where.bucket, f"{where.key}part-{i:05d}.parquet", sink.getvalue())
    store.put(where.bucket, f"{where.key}_SUCCESS", b"")  # Spark's marker: not a part


def test_hash_ignores_row_order_parts_and_chunks(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    whole = kpi_by_country(ROWS)
    put_parts(store, WHERE, [kpi_by_country(ROWS[2:]), kpi_by_country(ROWS[:1]), kpi_by_country(ROWS[1:2])])
    assert read_table(store, WHERE).num_rows == 3
    assert stored_table_hash(store, WHERE, KPI_BY_COUNTRY) == table_content_hash(whole, KPI_BY_COUNTRY)
    rechunked = pa.concat_tables([whole.slice(0, 1), whole.slice(1)])
    assert table_content_hash(rechunked, KPI_BY_COUNTRY) == table_content_hash(whole, KPI_BY_COUNTRY)
    assert table_content_hash(whole, KPI_BY_COUNTRY).startswith("sha256:")


def test_hash_changes_with_a_value_a_row_or_a_type() -> None:
    reference = table_content_hash(kpi_by_country(ROWS), KPI_BY_COUNTRY)
    one_cent_more = [("France", "10.51", 2, 1, "5.25"), *ROWS[1:]]
    assert table_content_hash(kpi_by_country(one_cent_more), KPI_BY_COUNTRY) != reference
    assert table_content_hash(kpi_by_country(ROWS[:2]), KPI_BY_COUNTRY) != reference
    as_int32 = kpi_by_country(ROWS).set_column(2, "orders", pa.array([2, 1, 1], pa.int32()))
    assert table_content_hash(as_int32, KPI_BY_COUNTRY) != reference


def test_hash_reads_the_declared_columns_in_their_order() -> None:
    table = kpi_by_country(ROWS)
    reordered = table.select(["orders", "country", "customers", "revenue", "avg_order_value"])
    assert table_content_hash(reordered, KPI_BY_COUNTRY) == table_content_hash(table, KPI_BY_COUNTRY)
    with pytest.raises(KeyError, match="revenue"):
        table_content_hash(table.drop_columns(["revenue"]), KPI_BY_COUNTRY)


def test_hash_sorts_by_the_whole_key() -> None:
    weeks = pa.table(
        {
            "iso_year": pa.array([2025, 2024, 2025], pa.int32()),
            "iso_week": pa.array([1, 52, 2], pa.int32()),
            "revenue": pa.array([Decimal(1), Decimal(2), Decimal(3)], pa.decimal128(18, 2)),
            "orders": pa.array([1, 1, 1], pa.int64()),
            "customers": pa.array([1, 1, 1], pa.int64()),
        }
    )
    shuffled = weeks.take([2, 0, 1])
    assert table_content_hash(shuffled, SALES_BY_WEEK) == table_content_hash(weeks, SALES_BY_WEEK)


def test_projection_and_limit_read_only_what_is_asked(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    big = pa.table({"id": pa.array(range(10_000), pa.int64()), "day": pa.array([date(2026, 1, 1)] * 10_000)})
    put_parts(store, WHERE, [big.slice(0, 4000), big.slice(4000)], row_group_size=500)
    limited = read_table(store, WHERE, columns=["id"], limit=4500)
    assert limited.column_names == ["id"]
    assert limited.column("id").to_pylist() == list(range(4500))
    assert read_table(store, WHERE, limit=0).num_rows == 0
    assert read_table(store, WHERE, limit=0).column_names == ["id", "day"]
    assert read_table(store, WHERE, columns=["day"]).num_rows == 10_000
    assert count_rows(store, WHERE) == 10_000


def test_a_filter_keeps_matching_rows_across_parts_up_to_the_limit(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    big = pa.table({"id": pa.array(range(10_000), pa.int64()), "day": pa.array([date(2026, 1, 1)] * 10_000)})
    put_parts(store, WHERE, [big.slice(0, 4000), big.slice(4000)], row_group_size=500)

    def multiple_of_7(batch: pa.RecordBatch) -> pa.Array:
        return pa.array([value % 7 == 0 for value in batch.column("id").to_pylist()])

    found = read_table(store, WHERE, columns=["id"], limit=700, where=multiple_of_7)
    assert found.column("id").to_pylist() == list(range(0, 4900, 7))  # 700 rows, the second part included
    every = read_table(store, WHERE, where=multiple_of_7)
    assert every.column_names == ["id", "day"] and every.num_rows == len(range(0, 10_000, 7))
    assert read_table(store, WHERE, where=lambda b: pc.less(b.column("id"), 0)).num_rows == 0


def test_a_table_without_parts_is_not_found(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("gold", f"{WHERE.key}_SUCCESS", b"")
    with pytest.raises(TableNotFound, match="no Parquet files"):
        read_table(store, WHERE)
