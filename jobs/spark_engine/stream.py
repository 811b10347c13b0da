"""The Spark engine's event loop: a Structured Streaming query on the events topic, one run per changed input set.

The Kafka source reads `settings.events_topic` from the earliest offset on first start; progress lives in the
checkpoint (default `s3a://<gold>/_checkpoints/spark-engine/`), so Spark, not a consumer group, owns the
offsets, and a batch's offsets count as done only once `foreachBatch` returned. Each micro-batch:

1. collects its messages' values on the driver (small store-event JSON) and handles each one with
   `twinlake.dead_letter.handle_raw_message`: poison goes to the dead-letter topic, test events are logged;
2. lists landing (`twinlake.inputs.list_landing`); if a dataset has no object yet, or the input set's
   fingerprint equals the last successful Spark run's (the engine pointer's manifest), nothing runs, so
   duplicate or replayed events do nothing;
3. otherwise runs `execute_run`. A failed run raises, which fails the query: the process exits non-zero and,
   restarted, replays the batch (its offsets were not committed).

An empty trigger (no new events) does not reconcile: `--once` reconciles landing once without the topic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from jobs.spark_engine.run import ENGINE, RunOutcome, RunRequest, execute_run
from twinlake.dead_letter import Producer, handle_raw_message
from twinlake.inputs import input_fingerprint, list_landing, missing_datasets
from twinlake.layout import Location, engine_pointer
from twinlake.manifest import read_manifest
from twinlake.pointer import read_pointer
from twinlake.settings import Settings
from twinlake.store import NotFound, ObjectStore

log = logging.getLogger(__name__)
DEFAULT_TRIGGER = "5 seconds"


class RunFailed(RuntimeError):
    """A run triggered by a micro-batch failed: the streaming query must fail with it."""


def checkpoint_location(settings: Settings) -> str:
    return f"s3a://{settings.gold_bucket}/_checkpoints/spark-engine/"


def last_succeeded_fingerprint(store: ObjectStore, gold_bucket: str) -> str | None:
    """The input fingerprint of the run the Spark engine's pointer names (None before the first success)."""
    found = read_pointer(store, engine_pointer(gold_bucket, ENGINE))
    if found is None:
        return None
    pointer, _ = found
    try:
        return read_manifest(store, Location(gold_bucket, pointer.manifest)).input_fingerprint
    except NotFound:
        return None


class SparkEngine:
    """Reconciles landing with the last successful run; `maybe_run` is what each micro-batch ends with."""

    def __init__(self, spark: SparkSession, settings: Settings, store: ObjectStore, producer: Producer) -> None:
        self.spark = spark
        self.settings = settings
        self.store = store
        self.producer = producer
        self.outcomes: list[RunOutcome] = []

    def maybe_run(self) -> RunOutcome | None:
        """Run if every dataset has an object and the input set differs from the last successful run's."""
        inputs = list_landing(self.store, self.settings.landing_bucket)
        waiting = missing_datasets(inputs)
        if waiting:
            log.info("waiting for %s: no object in s3://%s yet", ", ".join(waiting), self.settings.landing_bucket)
            return None
        fingerprint = input_fingerprint(inputs)
        if fingerprint == last_succeeded_fingerprint(self.store, self.settings.gold_bucket):
            log.info("input set %s unchanged: no run", fingerprint[:6])
            return None
        request = RunRequest(
            inputs=inputs,
            reference_date=self.settings.reference_date or datetime.now(UTC).date(),
            started_at=datetime.now(UTC),
        )
        log.info("spark run %s starts on %d objects", request.run_id, len(inputs))
        outcome = execute_run(self.spark, self.store, self.settings.landing_bucket, self.settings.lake, request)
        self.outcomes.append(outcome)
        manifest = outcome.manifest
        log.info("spark run %s %s%s", manifest.run_id, manifest.status, f": {manifest.error}" if manifest.error else "")
        return outcome

    def handle_batch(self, batch: DataFrame, batch_id: int) -> None:
        """The `foreachBatch` function: triage the batch's events, then run if the input set changed."""
        rows = batch.select("topic", "partition", "offset", "key", "value").collect()
        relevant = 0
        for row in rows:
            source = {"topic": row["topic"], "partition": row["partition"], "offset": row["offset"], "key": row["key"]}
            value = bytes(row["value"]) if row["value"] is not None else None
            relevant += len(handle_raw_message(value, source, self.producer, self.settings))
        log.info("batch %d: %d messages, %d relevant events", batch_id, len(rows), relevant)
        if not relevant:
            return
        outcome = self.maybe_run()
        if outcome is not None and not outcome.manifest.succeeded:
            raise RunFailed(f"spark run {outcome.manifest.run_id} failed: {outcome.manifest.error}")


def start_query(
    engine: SparkEngine,
    *,
    trigger: str = DEFAULT_TRIGGER,
    checkpoint: str | None = None,
    starting_offsets: str = "earliest",
) -> Any:
    """Start the streaming query (Kafka source -> foreachBatch) and return its StreamingQuery."""
    settings = engine.settings
    events = (
        engine.spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap)
        .option("subscribe", settings.events_topic)
        .option("startingOffsets", starting_offsets)
        .option("failOnDataLoss", "false")
        .load()
    )
    handler: Callable[[DataFrame, int], None] = engine.handle_batch
    return (
        events.writeStream.queryName("twinlake-spark-engine")
        .foreachBatch(handler)
        .option("checkpointLocation", checkpoint or checkpoint_location(settings))
        .trigger(processingTime=trigger)
        .start()
    )
