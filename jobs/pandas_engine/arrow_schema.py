"""Map the shared logical types (`twinlake.schema.ColumnType`) to pyarrow types, and build pyarrow schemas.

The Pandas engine writes Parquet through pyarrow, so this is where its column types are decided; which columns a
Bronze, Silver or rejected table has, in which order, is `twinlake.schema`'s to say. Every field is nullable, as
`twinlake.gold` documents (Spark writes nullable fields too).
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from twinlake.datasets import (
    MONEY_PRECISION,
    MONEY_SCALE,
    PERCENT_PRECISION,
    PERCENT_SCALE,
    TOTAL_PRECISION,
    Dataset,
)
from twinlake.gold import GoldTable
from twinlake.schema import ColumnType, TableColumn, bronze_columns, rejected_columns, silver_columns

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


def arrow_schema(columns: Iterable[TableColumn]) -> pa.Schema:
    """The pyarrow schema of a table of the logical `columns`, in order."""
    fields = []
    for column in columns:
        value = arrow_type(column.type)
        fields.append(pa.field(column.name, pa.list_(value) if column.is_list else value))
    return pa.schema(fields)


def gold_schema(table: GoldTable) -> pa.Schema:
    """The exact pyarrow schema of a Gold table: its columns, in order, with their types."""
    return pa.schema([pa.field(c.name, arrow_type(c.type)) for c in table.columns])


def silver_schema(dataset: Dataset, *, lineage: bool = True) -> pa.Schema:
    """The pyarrow schema of a clean Silver dataset: its data columns, then (by default) its lineage ones."""
    return arrow_schema(silver_columns(dataset, lineage=lineage))


def bronze_schema(dataset: Dataset) -> pa.Schema:
    """Bronze: every data column as the raw text it landed as, then the lineage columns."""
    return arrow_schema(bronze_columns(dataset))


def rejected_schema(dataset: Dataset) -> pa.Schema:
    """Rejected Silver rows: raw text, lineage, and the list of every rule code the row fails."""
    return arrow_schema(rejected_columns(dataset))
