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
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from importlib.metadata import version
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from jobs.runs import LayerTimer, RunFailure, RunOutcome, RunRequest, RunResults, record_run
from jobs.spark_engine.bronze import LandingFile, read_bronze_files
from jobs.spark_engine.gold import build_aggregates, build_facts, check_promises, cluster_by_client
from jobs.spark_engine.silver import SparkSilverResult, build_silver
from twinlake.datasets import DATASETS, DatasetName
from twinlake.gold import FACTS, GOLD_TABLES
from twinlake.inputs import list_landing
from twinlake.layout import Buckets, Engine, Location, RunLayout
from twinlake.manifest import DatasetCounts, InputObject
from twinlake.store import LocalStore, ObjectStore
from twinlake.tables import stored_table_hash

log = logging.getLogger(__name__)
ENGINE = Engine.SPARK
GOLD_WRITERS = 4  # concurrent Gold aggregate writes


def engine_versions(spark: SparkSession) -> dict[str, str]:
    return {"spark": spark.version, "python": platform.python_version(), "twinlake": version("twinlake")}


def uri(location: Location, store: ObjectStore | None = None) -> str:
    """The URI Spark reads and writes a table folder (or object) at: s3a:// for an S3 store, file:// for a
    `LocalStore` (its folder `<root>/<bucket>/<key>`, so benchmarks and tests run Spark without an S3 server)."""
    if isinstance(store, LocalStore):  # a raw path, not %-encoded: Spark reads `a%20b` as those five characters
        path = f"file://{(store.root / location.bucket / location.key).resolve()}"
        return path + "/" if location.key.endswith("/") else path
    return location.uri("s3a")


def execute_run(
    spark: SparkSession, store: ObjectStore, landing_bucket: str, buckets: Buckets, request: RunRequest
) -> RunOutcome:
    """Run the whole pipeline on `request.inputs`; never raises for bad data, always records a manifest.

    `peak_memory_bytes` is the driver process's (the Python side); the JVM's memory is not included.
    """
    layout = RunLayout(buckets, ENGINE, request.run_id)
    timer, results, failure = LayerTimer(), RunResults(), None
    try:
        bronze = _bronze(spark, store, landing_bucket, layout, request.inputs)
        timer.lap("bronze")
        cleans, results.counts = _silver(spark, store, layout, bronze, request.reference_date)
        timer.lap("silver")
        results.gold_row_counts = _gold(spark, store, layout, cleans, results.counts)
        results.gold_table_hashes = _hash_gold(store, layout)
        timer.lap("gold")
    except Exception as exc:  # the run must end recorded, whatever went wrong
        log.exception("spark run %s failed", request.run_id)
        failure = RunFailure.of(exc)
    return record_run(store, layout, request, engine_versions(spark), results, timer, failure)


def _bronze(
    spark: SparkSession,
    store: ObjectStore,
    landing_bucket: str,
    layout: RunLayout,
    inputs: tuple[InputObject, ...],
) -> dict[DatasetName, DataFrame]:
    """Validate and read every input object (pinned by ETag), write each dataset's Bronze, read it back.

    The driver fetches the objects (several at a time) to validate them; Spark reads most of them again from the
    store, so once Bronze is written the landing objects are listed again: one replaced meanwhile fails the run
    (the next run reads the new input set), and a run never mixes two versions of an object.
    """
    with ThreadPoolExecutor(max_workers=FETCHERS, thread_name_prefix="landing-get") as pool:
        files = list(pool.map(lambda source: _fetch(store, landing_bucket, source), inputs))
    bronze: dict[DatasetName, DataFrame] = {}
    for name in DatasetName:
        mine = [f for f in files if f.source.dataset == name]
        if not mine:
            raise ValueError(f"no input object for dataset {name}")
        target = uri(layout.bronze(name), store)
        read_bronze_files(spark, DATASETS[name], mine).write.mode("errorifexists").parquet(target)
        bronze[name] = spark.read.parquet(target)
    _check_unchanged(store, landing_bucket, inputs)
    return bronze


FETCHERS = 8  # concurrent GETs of landing objects


def _fetch(store: ObjectStore, landing_bucket: str, source: InputObject) -> LandingFile:
    obj = store.get(landing_bucket, source.key)
    if obj.etag != source.etag:
        raise RuntimeError(f"{source.key} changed during the run (etag {source.etag} -> {obj.etag})")
    return LandingFile(source, obj.body, uri(Location(landing_bucket, source.key), store))


def _check_unchanged(store: ObjectStore, landing_bucket: str, inputs: tuple[InputObject, ...]) -> None:
    now = {i.key: i.etag for i in list_landing(store, landing_bucket)}
    for source in inputs:
        if now.get(source.key) != source.etag:
            raise RuntimeError(f"{source.key} changed during the run (etag {source.etag} -> {now.get(source.key)})")


def _silver(
    spark: SparkSession,
    store: ObjectStore,
    layout: RunLayout,
    bronze: dict[DatasetName, DataFrame],
    reference_date: date,
) -> tuple[dict[DatasetName, DataFrame], dict[DatasetName, DatasetCounts]]:
    """Clients first: purchases and promotions check their client_id against the clean clients."""
    clean_ids: dict[tuple[DatasetName, str], DataFrame] = {}
    cleans: dict[DatasetName, DataFrame] = {}
    counts: dict[DatasetName, DatasetCounts] = {}
    for name in DatasetName:
        dataset = DATASETS[name]
        result: SparkSilverResult = build_silver(dataset, bronze[name], reference_date, clean_ids)
        try:
            result.clean.write.mode("errorifexists").parquet(uri(layout.silver(name), store))
            result.rejected.write.mode("errorifexists").parquet(uri(layout.silver_rejected(name), store))
        finally:
            result.release()
        cleans[name] = spark.read.parquet(uri(layout.silver(name), store))
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


def _hash_gold(store: ObjectStore, layout: RunLayout) -> dict[str, str]:
    """Content hash of every Gold table as stored: read back on the driver (pyarrow releases the GIL, so the
    tables are hashed side by side)."""
    with ThreadPoolExecutor(max_workers=GOLD_WRITERS, thread_name_prefix="gold-hash") as pool:
        futures = {t.name: pool.submit(stored_table_hash, store, layout.gold(t.name), t) for t in GOLD_TABLES}
        return {name: future.result() for name, future in futures.items()}


def _gold(
    spark: SparkSession,
    store: ObjectStore,
    layout: RunLayout,
    cleans: dict[DatasetName, DataFrame],
    counts: dict[DatasetName, DatasetCounts],
) -> dict[str, int]:
    """The facts first, then every aggregate from the facts read back (no aggregate re-runs the Silver joins).

    Each table's row count is observed while it is written (`Observation`: no second job reads it back). The
    writes are submitted side by side: a fact is one sorted partition (one task), an aggregate a small job
    whose time is mostly per-job latency, so one at a time would leave a core idle. Spark runs concurrent
    jobs of one session safely.
    """
    quality: dict[str, Any] = {str(name): c.model_dump() for name, c in counts.items()}
    rows: dict[str, int] = {}

    def write(name: str, frame: DataFrame) -> None:
        observed = Observation(f"gold_{name}")
        frame.observe(observed, F.count(F.lit(1)).alias("rows")).write.mode("errorifexists").parquet(
            uri(layout.gold(name), store)
        )
        rows[name] = int(observed.get["rows"])

    def write_all(tables: dict[str, DataFrame]) -> None:
        with ThreadPoolExecutor(max_workers=GOLD_WRITERS, thread_name_prefix="gold") as pool:
            for future in [pool.submit(write, name, frame) for name, frame in tables.items()]:
                future.result()

    write_all(
        build_facts(spark, cleans[DatasetName.CLIENTS], cleans[DatasetName.PURCHASES], cleans[DatasetName.PROMOTIONS])
    )
    facts = {fact: spark.read.parquet(uri(layout.gold(fact.table.name), store)) for fact in FACTS}
    # Cached in memory (a few narrow columns): every aggregate reads them, already clustered by client_id.
    clustered = {fact: frame.persist(StorageLevel.MEMORY_AND_DISK) for fact, frame in cluster_by_client(facts).items()}
    try:
        check_promises(clustered)  # a broken Silver promise fails the run before any aggregate is written
        write_all(build_aggregates(spark, clustered, quality))
    finally:
        for frame in clustered.values():
            frame.unpersist()
    return {t.name: rows[t.name] for t in GOLD_TABLES}
