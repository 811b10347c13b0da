"""Both engines on the same generated landing files: identical Silver (as sets of rows, reasons included),
identical per-rule counts, and identical Gold tables (schemas and rows, in order)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.spark.engines import EngineOutput, run_pandas, run_spark
from twinlake.datasets import DatasetName
from twinlake.gold import GOLD_TABLES

pytestmark = [pytest.mark.spark, pytest.mark.slow]
REFERENCE = date(2026, 11, 26)


def _rows(table: pa.Table) -> set[tuple[Any, ...]]:
    return {tuple(tuple(v) if isinstance(v, list) else v for v in row.values()) for row in table.to_pylist()}


@pytest.fixture(scope="module")
def outputs(
    spark: Any, tmp_path_factory: pytest.TempPathFactory, generated_landing: Callable[..., Path]
) -> tuple[EngineOutput, EngineOutput]:
    landing = generated_landing(20000, 7, REFERENCE, 0.01)
    files = {n: [landing / f"{n}.csv"] for n in DatasetName}
    return run_pandas(files, REFERENCE), run_spark(spark, files, REFERENCE, tmp_path_factory.mktemp("spark"))


@pytest.mark.parametrize("name", list(DatasetName))
def test_silver_is_identical(outputs: tuple[EngineOutput, EngineOutput], name: DatasetName) -> None:
    pandas, spark = outputs
    assert spark.counts[name] == pandas.counts[name]
    assert spark.counts[name].rows_rejected > 0
    for kind in ("clean", "rejected"):
        expected: pa.Table = getattr(pandas, kind)[name]
        got: pa.Table = getattr(spark, kind)[name]
        assert got.schema.remove_metadata().equals(expected.schema.remove_metadata(), check_metadata=False), kind
        assert _rows(got) == _rows(expected), kind


@pytest.mark.parametrize("table", [t.name for t in GOLD_TABLES])
def test_gold_is_identical(outputs: tuple[EngineOutput, EngineOutput], table: str) -> None:
    pandas, spark = outputs
    expected, got = pandas.gold[table], spark.gold[table].replace_schema_metadata(None)
    assert got.schema.equals(expected.schema), table
    assert got.equals(expected), table
