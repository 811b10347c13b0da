"""Run both engines' Bronze -> Silver -> Gold on the same local CSV files, for equivalence tests."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from jobs.pandas_engine.bronze import read_bronze as pandas_bronze
from jobs.pandas_engine.gold import build_gold as pandas_gold
from jobs.pandas_engine.silver import PandasSilverResult
from jobs.pandas_engine.silver import build_silver as pandas_silver
from jobs.spark_engine.bronze import read_bronze as spark_bronze
from jobs.spark_engine.bronze import union_all
from jobs.spark_engine.gold import build_gold as spark_gold
from jobs.spark_engine.silver import SparkSilverResult
from jobs.spark_engine.silver import build_silver as spark_silver
from twinlake.datasets import DATASETS, DatasetName
from twinlake.manifest import DatasetCounts, InputObject


@dataclass
class EngineOutput:
    clean: dict[DatasetName, pa.Table]
    rejected: dict[DatasetName, pa.Table]
    counts: dict[DatasetName, DatasetCounts]
    gold: dict[str, pa.Table]


def input_object(dataset: DatasetName, path: Path, key: str | None = None) -> InputObject:
    body = path.read_bytes()
    return InputObject(key=key or path.name, etag=hashlib.md5(body).hexdigest(), size=len(body), dataset=dataset)


def run_pandas(files: Mapping[DatasetName, list[Path]], reference_date: date) -> EngineOutput:
    clean_ids: dict[tuple[DatasetName, str], Any] = {}
    silver: dict[DatasetName, PandasSilverResult] = {}
    for name in DatasetName:
        dataset = DATASETS[name]
        frames = [pandas_bronze(dataset, input_object(name, p), p.read_bytes()) for p in files[name]]
        result = pandas_silver(dataset, pd.concat(frames, ignore_index=True), reference_date, clean_ids)
        silver[name] = result
        clean_ids[(name, dataset.id_column)] = result.clean[dataset.id_column].to_numpy(dtype=np.int64)
    quality = {str(n): r.counts.model_dump() for n, r in silver.items()}
    gold = pandas_gold(*(silver[n].clean for n in DatasetName), quality)
    return EngineOutput(
        clean={n: pa.Table.from_pandas(r.clean, preserve_index=False) for n, r in silver.items()},
        rejected={n: pa.Table.from_pandas(r.rejected, preserve_index=False) for n, r in silver.items()},
        counts={n: r.counts for n, r in silver.items()},
        gold=gold,
    )


def _write_read(frame: Any, path: Path) -> pa.Table:
    frame.write.mode("overwrite").parquet(str(path))
    return pq.read_table(str(path))


def run_spark(spark: Any, files: Mapping[DatasetName, list[Path]], reference_date: date, out: Path) -> EngineOutput:
    clean_ids: dict[tuple[DatasetName, str], Any] = {}
    silver: dict[DatasetName, SparkSilverResult] = {}
    output = EngineOutput({}, {}, {}, {})
    for name in DatasetName:
        dataset = DATASETS[name]
        frames = [
            spark_bronze(spark, dataset, input_object(name, p), p.read_bytes(), p.resolve().as_uri())
            for p in files[name]
        ]
        result = spark_silver(dataset, union_all(frames), reference_date, clean_ids)
        silver[name] = result
        output.clean[name] = _write_read(result.clean, out / "silver" / str(name))
        output.rejected[name] = _write_read(result.rejected, out / "silver" / f"{name}_rejected")
        output.counts[name] = result.counts
        clean_ids[(name, dataset.id_column)] = spark.read.parquet(str(out / "silver" / str(name)))
    cleans = [spark.read.parquet(str(out / "silver" / str(n))) for n in DatasetName]
    quality = {str(n): r.counts.model_dump() for n, r in silver.items()}
    for table, frame in spark_gold(spark, *cleans, quality).items():
        output.gold[table] = _write_read(frame.coalesce(1), out / "gold" / table)
    for result in silver.values():
        result.release()
    return output
