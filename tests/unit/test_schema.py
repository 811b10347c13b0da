"""The logical schema of Bronze and Silver tables (`twinlake.schema`), and the Pandas engine's pyarrow schemas built
from it."""

from __future__ import annotations

import re
from decimal import Decimal

import pyarrow as pa
import pytest

from jobs.pandas_engine.arrow_schema import arrow_schema, bronze_schema, rejected_schema, silver_schema
from twinlake import gold
from twinlake.datasets import DATASETS, LINEAGE_COLUMNS, REASONS, DatasetName
from twinlake.rules import DECIMAL_2_PATTERN
from twinlake.schema import (
    LINEAGE,
    PARSE_DECIMAL_PRECISION,
    PARSE_DECIMAL_SCALE,
    SILVER_TYPES,
    ColumnType,
    TableColumn,
    bronze_columns,
    rejected_columns,
    silver_columns,
)

LINEAGE_ARROW = [pa.field("_source_key", pa.string()), pa.field("_source_etag", pa.string())]
LINEAGE_ARROW.append(pa.field("_row_number", pa.int64()))


def test_lineage_is_key_and_etag_as_text_then_the_row_number() -> None:
    assert tuple(c.name for c in LINEAGE) == LINEAGE_COLUMNS
    assert [c.type for c in LINEAGE] == [ColumnType.STRING, ColumnType.STRING, ColumnType.INT64]


@pytest.mark.parametrize("name", list(DatasetName))
def test_bronze_silver_and_rejected_columns(name: DatasetName) -> None:
    dataset = DATASETS[name]
    text = tuple(TableColumn(c, ColumnType.STRING) for c in dataset.column_names)
    assert bronze_columns(dataset) == (*text, *LINEAGE)
    typed = tuple(TableColumn(c.name, SILVER_TYPES[c.kind]) for c in dataset.columns)
    assert silver_columns(dataset) == (*typed, *LINEAGE)
    assert silver_columns(dataset, lineage=False) == typed
    assert rejected_columns(dataset) == (*text, *LINEAGE, TableColumn(REASONS, ColumnType.STRING, is_list=True))


@pytest.mark.parametrize("name", list(DatasetName))
def test_the_pandas_engine_schemas_are_the_logical_columns(name: DatasetName) -> None:
    dataset = DATASETS[name]
    text = [pa.field(c, pa.string()) for c in dataset.column_names]
    assert bronze_schema(dataset) == pa.schema([*text, *LINEAGE_ARROW])
    assert rejected_schema(dataset) == pa.schema([*text, *LINEAGE_ARROW, pa.field(REASONS, pa.list_(pa.string()))])
    silver = silver_schema(dataset)
    assert silver.names == [*dataset.column_names, *LINEAGE_COLUMNS]
    assert list(silver)[-3:] == LINEAGE_ARROW
    assert silver_schema(dataset, lineage=False) == arrow_schema(silver_columns(dataset, lineage=False))


def test_silver_types_are_the_contract_types() -> None:
    types = {f.name: str(f.type) for f in silver_schema(DATASETS[DatasetName.PURCHASES], lineage=False)}
    assert types == {
        "purchase_id": "int64",
        "client_id": "int64",
        "purchase_date": "date32[day]",
        "amount": "decimal128(12, 2)",
        "product": "string",
    }


def test_the_parse_width_holds_every_decimal_the_pattern_accepts() -> None:
    integer_digits, places = (int(n) for n in re.findall(r"\{1,(\d+)\}", DECIMAL_2_PATTERN))
    assert places == PARSE_DECIMAL_SCALE
    assert integer_digits <= PARSE_DECIMAL_PRECISION - PARSE_DECIMAL_SCALE
    largest = Decimal("9" * integer_digits + "." + "9" * places)
    assert pa.array([largest], pa.decimal128(PARSE_DECIMAL_PRECISION, PARSE_DECIMAL_SCALE))[0].as_py() == largest


def test_gold_still_offers_the_column_types() -> None:
    """Gold's users import the logical types from `twinlake.gold` too."""
    assert gold.ColumnType is ColumnType
    assert gold.SILVER_TYPES is SILVER_TYPES
