"""The Spark engine's event loop: a Structured Streaming query on the events topic, one run per changed input set.

The Kafka source reads `settings.events_topic` from the earliest offset on first start; progress lives in the
checkpoint (default `s3a://<gold>/_checkpoints/spark-engine/`), so Spark, not a consumer group, owns the
offsets, and a batch's offsets count as done only once `foreachBatch` returned. Each micro-batch:

1. collects its messages' values on the driver (small store-event JSON) and handles each one with
   `twinlake.dead_letter.handle_raw_message`: poison goes to the dead-letter topic (once per message, in a record
   that always fits, so a replayed batch adds nothing), test events are logged;
2. lists landing (`twinlake.inputs.list_landing`); if a dataset has no object yet, or the input set's
   fingerprint equals the last successful Spark run's (the engine pointer's manifest), nothing runs, so
   duplicate or replayed events do nothing;
3. otherwise runs `execute_run`. A run that fails on its data (a bad file) is recorded in a `failed` manifest
   and the query goes on, as the Pandas worker does; a run the infrastructure failed (the store unreachable,
   even for the manifest) is retried with back-off by the driver's loop, and the query goes on too; any other
   error that escapes the run (a missing bucket, a bug) fails the batch and so the query: the process exits
   non-zero and, restarted, replays the batch (its offsets were not committed).

An empty trigger (no new events) runs no `foreachBatch`, so the driver also reconciles on its own
(`supervise`): every `settings.reconcile_seconds` it calls `SparkWorker.maybe_run` from the main thread, so an
event lost by the store or the broker is caught, and sooner when a run the infrastructure failed is due again
(`RunScheduler.retry_due`: the store or the broker unreachable is retried with back-off, the query goes on). A lock
makes a reconcile and a batch's run take turns (never two runs at once). Any other exception in a reconcile stops
the query and the process exits non-zero, as a failed batch does.
`--once` reconciles landing once without the topic.

Stopping (SIGTERM / SIGINT): the driver lets a run in progress finish, then stops the query; a batch that was
waiting for that run fails instead of committing, so its events are replayed after the restart. Exit code 0.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from jobs.health import beat
from jobs.runs import RunOutcome, RunScheduler
from jobs.spark_engine.run import ENGINE, execute_run
from twinlake.dead_letter import DeadLetters, handle_raw_message
from twinlake.settings import Settings
from twinlake.store import ObjectStore

log = logging.getLogger(__name__)
DEFAULT_TRIGGER = "5 seconds"
OFFSET_FETCH_RETRIES = 60
POLL_SECONDS = 1.0  # how often the driver loop wakes up to check for a stop request or a due reconcile


class EngineStopping(RuntimeError):
    """Raised in a batch that would start after a stop was requested: its offsets must not be committed."""


def checkpoint_location(settings: Settings) -> str:
    return f"s3a://{settings.gold_bucket}/_checkpoints/spark-engine/"


class SparkWorker:
    """Reconciles landing with the last successful run; `maybe_run` is what each micro-batch ends with."""

    def __init__(self, spark: SparkSession, settings: Settings, store: ObjectStore, dead_letters: DeadLetters) -> None:
        self.spark = spark
        self.settings = settings
        self.store = store
        self.dead_letters = dead_letters
        self.scheduler = RunScheduler(
            store, settings.landing_bucket, settings.lake, ENGINE, reference_date=settings.reference_date
        )
        self.outcomes: list[RunOutcome] = []
        # Held for the whole of a run decision: a batch (Spark's callback thread) and a reconcile (the driver's
        # main thread) take turns.
        self.lock = threading.Lock()
        self.stopping = False

    def maybe_run(self) -> RunOutcome | None:
        """Run if every dataset has an object and the input set differs from the last run's."""
        with self.lock:
            if self.stopping:
                raise EngineStopping("the engine is stopping: no new run")
            outcome = self.scheduler.maybe_run(
                lambda request: execute_run(
                    self.spark, self.store, self.settings.landing_bucket, self.settings.lake, request
                )
            )
            if outcome is not None:
                self.outcomes.append(outcome)
            return outcome

    def stop_after_current_run(self, timeout: float | None = None) -> bool:
        """Refuse new runs, then wait (at most `timeout` s) for a run in progress; False if it did not end."""
        self.stopping = True
        acquired = self.lock.acquire(timeout=-1 if timeout is None else timeout)
        if acquired:
            self.lock.release()
        return acquired

    def handle_batch(self, batch: DataFrame, batch_id: int) -> None:
        """The `foreachBatch` function: triage the batch's events, then run if the input set changed."""
        rows = batch.select("topic", "partition", "offset", "key", "value").collect()
        relevant = 0
        for row in rows:
            source = {"topic": row["topic"], "partition": row["partition"], "offset": row["offset"], "key": row["key"]}
            value = bytes(row["value"]) if row["value"] is not None else None
            relevant += len(handle_raw_message(value, source, self.dead_letters, self.settings))
        log.info("batch %d: %d messages, %d relevant events", batch_id, len(rows), relevant)
        if relevant:
            self.maybe_run()


def start_query(
    engine: SparkWorker,
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
        # Ride out a broker restart (its offsets are fetched at every trigger): retry for a minute before the
        # query fails and the process exits for its supervisor.
        .option("fetchOffset.numRetries", str(OFFSET_FETCH_RETRIES))
        .option("fetchOffset.retryIntervalMs", "1000")
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


def supervise(
    query: Any,
    engine: SparkWorker,
    stop: threading.Event,
    *,
    reconcile_seconds: float | None = None,
    poll_seconds: float = POLL_SECONDS,
    stop_grace_seconds: float | None = None,
) -> int:
    """The driver's loop once the query runs: wait for it, reconcile periodically, stop on request.

    Returns the process exit code: 1 if the query failed (a batch raised) or a reconcile raised, 0 if it was
    stopped (`stop` set, e.g. by SIGTERM) or ended without an error.
    """
    interval = engine.settings.reconcile_seconds if reconcile_seconds is None else reconcile_seconds
    next_reconcile = time.monotonic() + interval
    while True:
        try:
            if query.awaitTermination(poll_seconds):
                error = query.exception()
                if error is not None:
                    log.error("the streaming query failed: %s", error)
                    return 1
                log.info("the streaming query ended")
                return 0
        except Exception:  # StreamingQueryException: a batch raised
            log.exception("the streaming query failed")
            return 1
        beat(engine.settings.heartbeat_file)
        if stop.is_set():
            log.info("stopping: waiting for a run in progress, then stopping the query")
            if not engine.stop_after_current_run(stop_grace_seconds):
                log.warning("a run is still in progress after %s s: stopping the query anyway", stop_grace_seconds)
            query.stop()
            return 0
        if time.monotonic() >= next_reconcile or engine.scheduler.retry_due:
            log.debug("periodic reconcile of s3://%s", engine.settings.landing_bucket)
            try:
                outcome = engine.maybe_run()
            except Exception:
                log.exception("the periodic reconcile failed: stopping the query")
                engine.stopping = True
                query.stop()
                return 1
            if outcome is not None:
                log.info("periodic reconcile ran %s: %s", outcome.manifest.run_id, outcome.manifest.status)
            next_reconcile = time.monotonic() + interval
