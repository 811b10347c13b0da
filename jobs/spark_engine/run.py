"""One run of the Spark engine: an input set in, Bronze/Silver/Gold tables, a manifest and the pointers out.

Same contract as `jobs/pandas_engine/run.py` (engine `spark`, layout under `spark/`): tables are written by
Spark to s3a:// folders of Parquet files; the manifest is written last and create-only through the
ObjectStore; the pointers move only for a manifest that says `succeeded`; any exception still writes a
`failed` manifest with the reason.

Bronze is written, then read back from the store for Silver, so every later step reads materialised row
numbers instead of re-parsing the CSV objects.
"""

from __future__ import annotations

import logging
import platform
from datetime import date
from importlib.metadata import version
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from jobs.runs import LayerTimer, RunOutcome, RunRequest, RunResults, error_text, record_run
from jobs.spark_engine.bronze import read_bronze, union_all
from jobs.spark_engine.gold import build_gold
from jobs.spark_engine.silver import SparkSilverResult, build_silver
from twinlake.datasets import DATASETS, DatasetName
from twinlake.layout import Buckets, Engine, Location, RunLayout
from twinlake.manifest import DatasetCounts, InputObject
from twinlake.store import ObjectStore

log = logging.getLogger(__name__)
ENGINE = Engine.SPARK


def engine_versions(spark: SparkSession) -> dict[str, str]:
    return {"spark": spark.version, "python": platform.python_version(), "twinlake": version("twinlake")}


def uri(location: Location) -> str:
    """The s3a:// URI Spark reads and writes a table folder at."""
    return location.uri("s3a")


def execute_run(
    spark: SparkSession, store: ObjectStore, landing_bucket: str, buckets: Buckets, request: RunRequest
) -> RunOutcome:
    """Run the whole pipeline on `request.inputs`; never raises for bad data, always records a manifest.

    `peak_memory_bytes` is the driver process's (the Python side); the JVM's memory is not included.
    """
    layout = RunLayout(buckets, ENGINE, request.run_id)
    timer, results, error = LayerTimer(), RunResults(), None
    try:
        bronze = _bronze(spark, store, landing_bucket, layout, request.inputs)
        timer.lap("bronze")
        cleans, results.counts = _silver(spark, layout, bronze, request.reference_date)
        timer.lap("silver")
        results.gold_row_counts = _gold(spark, layout, cleans, results.counts)
        timer.lap("gold")
    except Exception as exc:  # the run must end recorded, whatever went wrong
        log.exception("spark run %s failed", request.run_id)
        error = error_text(exc)
    return record_run(store, layout, request, engine_versions(spark), results, timer, error)


def _bronze(
    spark: SparkSession,
    store: ObjectStore,
    landing_bucket: str,
    layout: RunLayout,
    inputs: tuple[InputObject, ...],
) -> dict[DatasetName, DataFrame]:
    """Validate and read every input object (pinned by ETag), write each dataset's Bronze, read it back."""
    frames: dict[DatasetName, list[DataFrame]] = {name: [] for name in DatasetName}
    for source in inputs:
        obj = store.get(landing_bucket, source.key)
        if obj.etag != source.etag:
            raise RuntimeError(f"{source.key} changed during the run (etag {source.etag} -> {obj.etag})")
        location = uri(Location(landing_bucket, source.key))
        frames[source.dataset].append(read_bronze(spark, DATASETS[source.dataset], source, obj.body, location))
    bronze: dict[DatasetName, DataFrame] = {}
    for name, parts in frames.items():
        if not parts:
            raise ValueError(f"no input object for dataset {name}")
        target = uri(layout.bronze(name))
        union_all(parts).write.mode("errorifexists").parquet(target)
        bronze[name] = spark.read.parquet(target)
    return bronze


def _silver(
    spark: SparkSession, layout: RunLayout, bronze: dict[DatasetName, DataFrame], reference_date: date
) -> tuple[dict[DatasetName, DataFrame], dict[DatasetName, DatasetCounts]]:
    """Clients first: purchases and promotions check their client_id against the clean clients."""
    clean_ids: dict[tuple[DatasetName, str], DataFrame] = {}
    cleans: dict[DatasetName, DataFrame] = {}
    counts: dict[DatasetName, DatasetCounts] = {}
    for name in DatasetName:
        dataset = DATASETS[name]
        result: SparkSilverResult = build_silver(dataset, bronze[name], reference_date, clean_ids)
        try:
            result.clean.write.mode("errorifexists").parquet(uri(layout.silver(name)))
            result.rejected.write.mode("errorifexists").parquet(uri(layout.silver_rejected(name)))
        finally:
            result.release()
        cleans[name] = spark.read.parquet(uri(layout.silver(name)))
        clean_ids[(name, dataset.id_column)] = cleans[name]
        counts[name] = result.counts
        log.info(
            "silver %s: %d in, %d clean, %d rejected",
            name,
            result.counts.rows_in,
            result.counts.rows_clean,
            result.counts.rows_rejected,
        )
    return cleans, counts


def _gold(
    spark: SparkSession,
    layout: RunLayout,
    cleans: dict[DatasetName, DataFrame],
    counts: dict[DatasetName, DatasetCounts],
) -> dict[str, int]:
    quality: dict[str, Any] = {str(name): c.model_dump() for name, c in counts.items()}
    tables = build_gold(
        spark, cleans[DatasetName.CLIENTS], cleans[DatasetName.PURCHASES], cleans[DatasetName.PROMOTIONS], quality
    )
    rows: dict[str, int] = {}
    for name, frame in tables.items():
        target = uri(layout.gold(name))
        frame.write.mode("errorifexists").parquet(target)
        rows[name] = spark.read.parquet(target).count()
    return rows
