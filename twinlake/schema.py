"""The logical schema of every Bronze and Silver table, and the column types Silver and Gold share.

Declared once, with no engine library: an engine keeps only its map from `ColumnType` to its own types
(`jobs/pandas_engine/arrow_schema.py`, `jobs/spark_engine/spark_schema.py`) and builds its schemas from the
columns below, so both engines write the same column names, order and types.

- Bronze: the dataset's columns as the raw text they landed as (declared order), then the lineage columns.
- Silver (clean): the dataset's columns typed by their kind (`SILVER_TYPES`), then the lineage columns.
- Silver (rejected): Bronze's columns, then `_reasons`: the list of every rule code the row fails.
- Lineage: the landing object's key and ETag (text) and the row number within it (int64).

Every column is nullable (the engines' default, which `twinlake.gold` documents for Gold too).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from twinlake.datasets import (
    MONEY_PRECISION,
    MONEY_SCALE,
    PERCENT_PRECISION,
    PERCENT_SCALE,
    REASONS,
    ROW_NUMBER,
    SOURCE_ETAG,
    SOURCE_KEY,
    TOTAL_PRECISION,
    ColumnKind,
    Dataset,
)


class ColumnType(StrEnum):
    """The closed set of logical column types that Silver and Gold tables use."""

    INT32 = "int32"
    INT64 = "int64"
    STRING = "string"
    DATE = "date"
    MONEY = f"decimal({MONEY_PRECISION},{MONEY_SCALE})"  # decimal(12,2): a purchase amount
    PERCENT = f"decimal({PERCENT_PRECISION},{PERCENT_SCALE})"  # decimal(5,2): a promotion value
    TOTAL = f"decimal({TOTAL_PRECISION},{MONEY_SCALE})"  # decimal(18,2): sums and averages


# The Silver (clean) type of each dataset column kind: both engines type Silver with it.
SILVER_TYPES: dict[ColumnKind, ColumnType] = {
    ColumnKind.ID: ColumnType.INT64,
    ColumnKind.TEXT: ColumnType.STRING,
    ColumnKind.EMAIL: ColumnType.STRING,
    ColumnKind.DATE: ColumnType.DATE,
    ColumnKind.MONEY: ColumnType.MONEY,
    ColumnKind.PERCENT: ColumnType.PERCENT,
    ColumnKind.ENUM: ColumnType.STRING,
}

# Every engine parses a decimal text (at most 13 integer digits and 2 places, `twinlake.rules.DECIMAL_2_PATTERN`)
# as a decimal of this precision and scale before it checks a range or narrows it to its Silver type.
PARSE_DECIMAL_PRECISION, PARSE_DECIMAL_SCALE = 16, 2


@dataclass(frozen=True)
class TableColumn:
    """One column of a Bronze or Silver table: its name and logical type, or a list of values of that type."""

    name: str
    type: ColumnType
    is_list: bool = False


LINEAGE: tuple[TableColumn, ...] = (
    TableColumn(SOURCE_KEY, ColumnType.STRING),
    TableColumn(SOURCE_ETAG, ColumnType.STRING),
    TableColumn(ROW_NUMBER, ColumnType.INT64),
)


def bronze_columns(dataset: Dataset) -> tuple[TableColumn, ...]:
    """Bronze: every data column as the raw text it landed as, then the lineage columns."""
    return (*(TableColumn(name, ColumnType.STRING) for name in dataset.column_names), *LINEAGE)


def silver_columns(dataset: Dataset, *, lineage: bool = True) -> tuple[TableColumn, ...]:
    """Clean Silver: the dataset's typed columns, then (by default) the lineage columns."""
    typed = tuple(TableColumn(c.name, SILVER_TYPES[c.kind]) for c in dataset.columns)
    return (*typed, *LINEAGE) if lineage else typed


def rejected_columns(dataset: Dataset) -> tuple[TableColumn, ...]:
    """Rejected Silver: Bronze's columns, then the list of every rule code the row fails."""
    return (*bronze_columns(dataset), TableColumn(REASONS, ColumnType.STRING, is_list=True))
