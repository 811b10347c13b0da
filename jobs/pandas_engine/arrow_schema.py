"""Map the shared logical type names (`twinlake.gold.ColumnType`) to pyarrow types and schemas.

The Pandas engine writes Parquet through pyarrow, so this is where its Silver and Gold types are decided.
Every field is nullable, as `twinlake.gold` documents (Spark writes nullable fields too).
"""

from __future__ import annotations

import pyarrow as pa

from twinlake.datasets import (
    LINEAGE_COLUMNS,
    MONEY_PRECISION,
    MONEY_SCALE,
    PERCENT_PRECISION,
    PERCENT_SCALE,
    REASONS,
    ROW_NUMBER,
    TOTAL_PRECISION,
    Dataset,
)
from twinlake.gold import SILVER_TYPES, ColumnType, GoldTable

ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    ColumnType.INT32: pa.int32(),
    ColumnType.INT64: pa.int64(),
    ColumnType.STRING: pa.string(),
    ColumnType.DATE: pa.date32(),
    ColumnType.MONEY: pa.decimal128(MONEY_PRECISION, MONEY_SCALE),
    ColumnType.PERCENT: pa.decimal128(PERCENT_PRECISION, PERCENT_SCALE),
    ColumnType.TOTAL: pa.decimal128(TOTAL_PRECISION, MONEY_SCALE),
}


def arrow_type(type_name: ColumnType | str) -> pa.DataType:
    """The pyarrow type of a logical type name such as "int64" or "decimal(18,2)" (KeyError if unknown)."""
    try:
        return ARROW_TYPES[ColumnType(type_name)]
    except ValueError:
        raise KeyError(f"unknown column type {type_name!r}") from None


def gold_schema(table: GoldTable) -> pa.Schema:
    """The exact pyarrow schema of a Gold table: its columns, in order, with their types."""
    return pa.schema([pa.field(c.name, arrow_type(c.type)) for c in table.columns])


def silver_schema(dataset: Dataset, *, lineage: bool = True) -> pa.Schema:
    """The pyarrow schema of a clean Silver dataset: its data columns, then (by default) its lineage ones."""
    fields = [pa.field(c.name, arrow_type(SILVER_TYPES[c.kind])) for c in dataset.columns]
    if lineage:
        fields += _lineage_fields()
    return pa.schema(fields)


def _lineage_fields() -> list[pa.Field]:
    """The lineage columns of every Bronze and Silver row: source key and etag (text), row number (int64)."""
    return [pa.field(n, pa.int64() if n == ROW_NUMBER else pa.string()) for n in LINEAGE_COLUMNS]


def bronze_schema(dataset: Dataset) -> pa.Schema:
    """Bronze: every data column as the raw text it landed as, then the lineage columns."""
    return pa.schema([pa.field(c, pa.string()) for c in dataset.column_names] + _lineage_fields())


def rejected_schema(dataset: Dataset) -> pa.Schema:
    """Rejected Silver rows: raw text, lineage, and the list of every rule code the row fails."""
    return pa.schema([*bronze_schema(dataset), pa.field(REASONS, pa.list_(pa.string()))])
