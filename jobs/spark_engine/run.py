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
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from importlib.metadata import version

from pyspark import StorageLevel
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from jobs.runs import (
    CleanIds,
    LayerTimer,
    RunFailure,
    RunOutcome,
    RunRequest,
    RunResults,
    SilverOutput,
    check_inputs_unchanged,
    fetch_input,
    per_dataset,
    record_run,
    run_silver,
)
from jobs.spark_engine.bronze import LandingFile, read_bronze_files
from jobs.spark_engine.gold import build_aggregates, build_facts, check_promises, cluster_by_client
from jobs.spark_engine.silver import SparkSilverResult, build_silver
from twinlake.datasets import Dataset, DatasetName
from twinlake.gold import FACTS, GOLD_TABLES
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
    for dataset, mine in per_dataset(files, lambda file: file.source.dataset):
        target = uri(layout.bronze(dataset.name), store)
        read_bronze_files(spark, dataset, mine).write.mode("errorifexists").parquet(target)
        bronze[dataset.name] = spark.read.parquet(target)
    check_inputs_unchanged(store, landing_bucket, inputs)
    return bronze


FETCHERS = 8  # concurrent GETs of landing objects


def _fetch(store: ObjectStore, landing_bucket: str, source: InputObject) -> LandingFile:
    body = fetch_input(store, landing_bucket, source)
    return LandingFile(source, body, uri(Location(landing_bucket, source.key), store))


SparkSilver = SilverOutput[DataFrame, DataFrame]  # the clean ids are the clean rows read back


def _silver(
    spark: SparkSession,
    store: ObjectStore,
    layout: RunLayout,
    bronze: dict[DatasetName, DataFrame],
    reference_date: date,
) -> tuple[dict[DatasetName, DataFrame], dict[DatasetName, DatasetCounts]]:
    def step(dataset: Dataset, clean_ids: CleanIds[DataFrame]) -> SparkSilver:
        result: SparkSilverResult = build_silver(dataset, bronze[dataset.name], reference_date, clean_ids)
        try:
            result.clean.write.mode("errorifexists").parquet(uri(layout.silver(dataset.name), store))
            result.rejected.write.mode("errorifexists").parquet(uri(layout.silver_rejected(dataset.name), store))
        finally:
            result.release()
        clean = spark.read.parquet(uri(layout.silver(dataset.name), store))
        return SilverOutput(clean, result.counts, clean)

    silver = run_silver(step)
    return {name: s.clean for name, s in silver.items()}, {name: s.counts for name, s in silver.items()}


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
    counts: Mapping[DatasetName, DatasetCounts],
) -> dict[str, int]:
    """The facts first, then every aggregate from the facts read back (no aggregate re-runs the Silver joins).

    Each table's row count is observed while it is written (`Observation`: no second job reads it back). The
    writes are submitted side by side: a fact is one sorted partition (one task), an aggregate a small job
    whose time is mostly per-job latency, so one at a time would leave a core idle. Spark runs concurrent
    jobs of one session safely.
    """
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
        write_all(build_aggregates(spark, clustered, counts))
    finally:
        for frame in clustered.values():
            frame.unpersist()
    return {t.name: rows[t.name] for t in GOLD_TABLES}
