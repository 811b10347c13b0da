"""Build the same small Bronze frame for both engines, and run both engines' Silver on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from jobs.pandas_engine.silver import build_silver as pandas_silver
from jobs.spark_engine.silver import build_silver as spark_silver
from jobs.spark_engine.spark_schema import bronze_schema
from twinlake.datasets import DATASETS, REASONS, ROW_NUMBER, SOURCE_KEY, DatasetName
from twinlake.manifest import DatasetCounts

STRING = pd.ArrowDtype(pa.string())
C = DatasetName.CLIENTS
CLEAN_CLIENTS = (1,)


@dataclass(frozen=True)
class Fates:
    """Per (source key, row number): None for a clean row, else its reasons; and the counts."""

    fate: dict[tuple[str, int], tuple[str, ...] | None]
    counts: DatasetCounts


def bronze_rows(dataset: DatasetName, rows: Sequence[dict[str, str]]) -> list[tuple[Any, ...]]:
    names = DATASETS[dataset].column_names
    return [(*[r[c] for c in names], f"{dataset}.csv", "etag", i + 1) for i, r in enumerate(rows)]


def run_pandas(dataset: DatasetName, rows: Sequence[dict[str, str]], reference: date) -> Fates:
    names = DATASETS[dataset].column_names
    tuples = bronze_rows(dataset, rows)
    frame = pd.DataFrame({c: pd.Series([t[i] for t in tuples], dtype=STRING) for i, c in enumerate(names)})
    frame[SOURCE_KEY] = pd.Series([t[-3] for t in tuples], dtype=STRING)
    frame["_source_etag"] = pd.Series([t[-2] for t in tuples], dtype=STRING)
    frame[ROW_NUMBER] = pd.Series([t[-1] for t in tuples], dtype=pd.ArrowDtype(pa.int64()))
    ids = {(C, "client_id"): np.array(CLEAN_CLIENTS, dtype=np.int64)}
    result = pandas_silver(DATASETS[dataset], frame, reference, ids)
    fate: dict[tuple[str, int], tuple[str, ...] | None] = {}
    for key, number in zip(result.clean[SOURCE_KEY], result.clean[ROW_NUMBER], strict=True):
        fate[(key, int(number))] = None
    for key, number, codes in zip(
        result.rejected[SOURCE_KEY], result.rejected[ROW_NUMBER], result.rejected[REASONS], strict=True
    ):
        fate[(key, int(number))] = tuple(codes)
    return Fates(fate, result.counts)


def run_spark(spark: Any, dataset: DatasetName, rows: Sequence[dict[str, str]], reference: date) -> Fates:
    frame = spark.createDataFrame(bronze_rows(dataset, rows), bronze_schema(DATASETS[dataset]))
    ids = {(C, "client_id"): spark.createDataFrame([(i,) for i in CLEAN_CLIENTS], "client_id bigint")}
    result = spark_silver(DATASETS[dataset], frame, reference, ids)
    fate: dict[tuple[str, int], tuple[str, ...] | None] = {}
    for row in result.clean.select(SOURCE_KEY, ROW_NUMBER).collect():
        fate[(row[0], int(row[1]))] = None
    for row in result.rejected.select(SOURCE_KEY, ROW_NUMBER, REASONS).collect():
        fate[(row[0], int(row[1]))] = tuple(row[2])
    result.release()
    return Fates(fate, result.counts)
