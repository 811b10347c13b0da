"""Map the shared logical types (`twinlake.schema.ColumnType`) to Spark SQL types, and build Spark schemas.

Which columns a Bronze, Silver or rejected table has, in which order, is `twinlake.schema`'s to say. The Parquet
files Spark writes with these schemas read back in pyarrow as exactly the Pandas engine's schemas
(`jobs/pandas_engine/arrow_schema.py`): bigint -> int64, int -> int32, decimal(p,s) -> decimal128(p,s),
date -> date32, string -> string, array<string> -> list<string>. Every field is nullable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

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

SPARK_TYPES: dict[ColumnType, T.DataType] = {
    ColumnType.INT32: T.IntegerType(),
    ColumnType.INT64: T.LongType(),
    ColumnType.STRING: T.StringType(),
    ColumnType.DATE: T.DateType(),
    ColumnType.MONEY: T.DecimalType(MONEY_PRECISION, MONEY_SCALE),
    ColumnType.PERCENT: T.DecimalType(PERCENT_PRECISION, PERCENT_SCALE),
    ColumnType.TOTAL: T.DecimalType(TOTAL_PRECISION, MONEY_SCALE),
}


def spark_type(type_name: ColumnType | str) -> T.DataType:
    """The Spark type of a logical type name such as "int64" or "decimal(18,2)" (KeyError if unknown)."""
    try:
        return SPARK_TYPES[ColumnType(type_name)]
    except ValueError:
        raise KeyError(f"unknown column type {type_name!r}") from None


def spark_schema(columns: Iterable[TableColumn]) -> T.StructType:
    """The Spark schema of a table of the logical `columns`, in order."""
    fields = []
    for column in columns:
        value = spark_type(column.type)
        fields.append(T.StructField(column.name, T.ArrayType(value) if column.is_list else value))
    return T.StructType(fields)


def gold_schema(table: GoldTable) -> T.StructType:
    """The exact schema of a Gold table: its columns, in order, with their types."""
    return T.StructType([T.StructField(c.name, spark_type(c.type)) for c in table.columns])


def silver_schema(dataset: Dataset) -> T.StructType:
    """Clean Silver: the dataset's typed columns, then the lineage columns."""
    return spark_schema(silver_columns(dataset))


def bronze_schema(dataset: Dataset) -> T.StructType:
    """Bronze: the dataset's columns as raw text (declared order), then the lineage columns."""
    return spark_schema(bronze_columns(dataset))


def rejected_schema(dataset: Dataset) -> T.StructType:
    """Rejected Silver: Bronze's columns plus the list of failed rule codes."""
    return spark_schema(rejected_columns(dataset))


def as_nullable(frame: DataFrame, schema: T.StructType) -> DataFrame:
    """`frame` (already of `schema`'s names and types) with every field nullable, as the contract requires.

    Spark derives nullability from the plan (a count is never null) and writes it into Parquet; casts and
    `DataFrame.to` keep it. A union with an empty frame of the nullable schema makes every field nullable
    (a union's field is nullable if any side's is) without touching a value.
    """
    return frame.unionByName(literal_frame(frame.sparkSession, [], schema))


def literal_frame(spark: SparkSession, rows: Sequence[Sequence[Any]], schema: T.StructType) -> DataFrame:
    """A small frame of `rows` as literals in the plan (every field nullable when `rows` is empty).

    Not `createDataFrame`: from a Python list it ships the rows through a Python worker, which costs half a
    second per query that reads the frame (measured: a tiny write 0.75 s with it, 0.23 s without).
    """
    if not rows:
        return spark.range(0).select(*[F.lit(None).cast(f.dataType).alias(f.name) for f in schema.fields])
    structs = [
        F.struct(*[F.lit(v).cast(f.dataType).alias(f.name) for v, f in zip(row, schema.fields, strict=True)])
        for row in rows
    ]
    return spark.range(1).select(F.inline(F.array(*structs)))
