"""What every engine's run shares: the request, the layer timer, the manifest it ends with, and when to run at all.

An engine supplies only its layers (`jobs/<engine>_engine/run.py`); this module decides whether an input set
deserves a run and records how the run ended: the manifest is written last and create-only, and the pointers move
only for a manifest that says `succeeded`.

Failures are of two kinds (`twinlake.manifest.FailureKind`). A data failure (a bad file, or the engine itself) is
recorded as a failed run and the input set is not run again until it changes, even after a restart (the failed
manifest says so). An infrastructure failure (the store or the broker unreachable, a timeout) is recorded if the
store takes the manifest, and the input set is run again with back-off (`RetryPolicy`); a run that could not be
recorded at all leaves no trace but folders (retention removes them) and is simply made again. Per-request
retries are the clients' own (botocore's standard retry mode, kafka-python's producer retries); the back-off here
is between whole runs.

The steps of a run every engine takes alike live here too: the ETag-pinned fetch of an input object, the input
objects grouped per dataset in run order (`RUN_ORDER`, failing for a dataset without one), and the Silver loop
(`run_silver`: datasets in run order, each one checked against the clean ids of the ones before it, one log line
each). An engine supplies only what differs: how it reads, validates and writes a dataset.

"Already done" is judged from the recorded runs of the input set (`Lake.runs_of_input_set`), not from the pointer:
an engine killed between writing a run's manifest and moving the pointers rolls the pointer forward to that run
on restart instead of computing it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Generic, TypeVar

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as StoreConnectionError
from kafka.errors import KafkaError

from jobs.metrics import peak_rss_bytes, reset_peak_rss
from twinlake.catalog import Lake
from twinlake.datasets import DATASETS, Dataset, DatasetName
from twinlake.inputs import BadInputFile, input_fingerprint, list_landing, missing_datasets
from twinlake.layout import Buckets, Engine, RunLayout, make_run_id
from twinlake.manifest import (
    DatasetCounts,
    FailureKind,
    InputObject,
    LayerSeconds,
    RunManifest,
    write_manifest,
)
from twinlake.pointer import PublishResult, publish_run
from twinlake.store import ObjectStore

log = logging.getLogger(__name__)

# Clients first: purchases and promotions check their client_id against the clean clients.
RUN_ORDER: tuple[DatasetName, ...] = (DatasetName.CLIENTS, DatasetName.PURCHASES, DatasetName.PROMOTIONS)


@dataclass(frozen=True)
class RunRequest:
    """What a run reads (the input set, pinned by ETags) and the reference date its rules use."""

    inputs: tuple[InputObject, ...]
    reference_date: date
    started_at: datetime

    @property
    def fingerprint(self) -> str:
        return input_fingerprint(self.inputs)

    @property
    def run_id(self) -> str:
        return make_run_id(self.started_at, self.fingerprint)


@dataclass(frozen=True)
class RunOutcome:
    manifest: RunManifest
    published: PublishResult | None


@dataclass
class LayerTimer:
    """Wall-clock seconds per layer; also starts the peak-memory window of the run."""

    start: float = field(default_factory=time.perf_counter)
    laps: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._mark = self.start
        reset_peak_rss()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._mark, 3)
        self._mark = now

    def seconds(self) -> LayerSeconds:
        laps = {k: self.laps.get(k, 0.0) for k in ("bronze", "silver", "gold")}
        return LayerSeconds(**laps, total=round(time.perf_counter() - self.start, 3))


@dataclass
class RunResults:
    """What the layers produced so far; a failed run records whatever it had."""

    counts: dict[DatasetName, DatasetCounts] = field(default_factory=dict)
    gold_row_counts: dict[str, int] = field(default_factory=dict)
    gold_table_hashes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunFailure:
    """How a run failed: its kind and the message its manifest records."""

    kind: FailureKind
    error: str

    @classmethod
    def of(cls, exc: BaseException) -> RunFailure:
        return cls(classify_failure(exc), error_text(exc))


def record_run(
    store: ObjectStore,
    layout: RunLayout,
    request: RunRequest,
    versions: Mapping[str, str],
    results: RunResults,
    timer: LayerTimer,
    failure: RunFailure | None,
) -> RunOutcome:
    """Write the run's manifest (create-only), then publish it if it succeeded.

    Raises what the store raises if the manifest cannot be written (the store is down): the scheduler then
    treats the run as never made.
    """
    manifest = RunManifest(
        run_id=request.run_id,
        engine=layout.engine,
        versions=dict(versions),
        status="failed" if failure else "succeeded",
        error=failure.error if failure else None,
        failure=failure.kind if failure else None,
        inputs=list(request.inputs),
        input_fingerprint=request.fingerprint,
        reference_date=request.reference_date,
        started_at=request.started_at,
        finished_at=datetime.now(UTC),
        datasets=results.counts,
        gold_row_counts=results.gold_row_counts,
        gold_table_hashes=results.gold_table_hashes,
        seconds=timer.seconds(),
        peak_memory_bytes=peak_rss_bytes(),
    )
    write_manifest(store, layout, manifest)
    published = publish_run(store, layout.buckets.gold, manifest) if manifest.succeeded else None
    return RunOutcome(manifest, published)


# ---- the steps every engine's run takes ------------------------------------------------------------------------

Item = TypeVar("Item")
Clean = TypeVar("Clean")  # an engine's clean Silver table (a pandas or a Spark frame)
Ids = TypeVar("Ids")  # an engine's clean ids of a dataset, which later datasets check their references against
CleanIds = Mapping[tuple[DatasetName, str], Ids]


def input_changed(source: InputObject, etag_now: str | None) -> RuntimeError:
    """The error of a run whose input object no longer has the ETag the run was started on."""
    return RuntimeError(f"{source.key} changed during the run (etag {source.etag} -> {etag_now})")


def fetch_input(store: ObjectStore, landing_bucket: str, source: InputObject) -> bytes:
    """The body of one input object, pinned by its ETag: raises if the object changed since the run listed it."""
    obj = store.get(landing_bucket, source.key)
    if obj.etag != source.etag:
        raise input_changed(source, obj.etag)
    return obj.body


def check_inputs_unchanged(store: ObjectStore, landing_bucket: str, inputs: Iterable[InputObject]) -> None:
    """List landing again: raises if an input object was replaced or removed since the run listed it."""
    now = {i.key: i.etag for i in list_landing(store, landing_bucket)}
    for source in inputs:
        if now.get(source.key) != source.etag:
            raise input_changed(source, now.get(source.key))


def per_dataset(
    items: Iterable[Item], dataset_of: Callable[[Item], DatasetName]
) -> Iterator[tuple[Dataset, list[Item]]]:
    """The items (input objects, or what an engine made of them) of each dataset, in run order (`RUN_ORDER`).

    Raises `ValueError` when the turn of a dataset without any item comes (the datasets before it are yielded).
    """
    groups: dict[DatasetName, list[Item]] = {name: [] for name in RUN_ORDER}
    for item in items:
        groups[dataset_of(item)].append(item)
    for name, group in groups.items():
        if not group:
            raise ValueError(f"no input object for dataset {name}")
        yield DATASETS[name], group


@dataclass(frozen=True)
class SilverOutput(Generic[Clean, Ids]):
    """What an engine's Silver step made of one dataset: its clean table, its counts, and its clean ids."""

    clean: Clean
    counts: DatasetCounts
    ids: Ids


def run_silver(
    step: Callable[[Dataset, CleanIds[Ids]], SilverOutput[Clean, Ids]],
) -> dict[DatasetName, SilverOutput[Clean, Ids]]:
    """Silver of every dataset in run order: `step` validates and writes one dataset, given the clean ids of the
    datasets before it (keyed by (dataset, id column)); one log line per dataset."""
    clean_ids: dict[tuple[DatasetName, str], Ids] = {}
    outputs: dict[DatasetName, SilverOutput[Clean, Ids]] = {}
    for name in RUN_ORDER:
        dataset = DATASETS[name]
        output = step(dataset, clean_ids)
        clean_ids[(name, dataset.id_column)] = output.ids
        outputs[name] = output
        log_silver(name, output.counts)
    return outputs


def log_silver(name: DatasetName, counts: DatasetCounts) -> None:
    log.info("silver %s: %d in, %d clean, %d rejected", name, counts.rows_in, counts.rows_clean, counts.rows_rejected)


def error_text(exc: BaseException) -> str:
    """`Type: first line of the message`: what a failed manifest says (JVM traces stay in the log)."""
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message.splitlines()[0] if message else repr(exc)}"


# What the JVM reports (inside a Py4J / PySpark error) when the store does not answer or answers too late.
_JVM_UNREACHABLE = (
    "java.net.ConnectException",
    "java.net.SocketTimeoutException",
    "java.net.SocketException",
    "java.net.UnknownHostException",
    "java.net.NoRouteToHostException",
    "org.apache.http.NoHttpResponseException",
    "org.apache.http.conn.ConnectTimeoutException",
    "software.amazon.awssdk.core.exception.SdkClientException",
    "org.apache.hadoop.fs.s3a.AWSClientIOException",
    "org.apache.hadoop.fs.s3a.AWSServiceThrottledException",
    "org.apache.hadoop.fs.s3a.AWSStatus500Exception",
    "Unable to execute HTTP request",
    "Connection refused",
)
_RETRYABLE_S3_CODES = frozenset({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling"})


def classify_failure(exc: BaseException) -> FailureKind:
    """`infrastructure` if the store or the broker could not be reached (or timed out), else `data`.

    A bad file is always `data`. Anything unknown is `data` too: a bug fails the same way every time, so running
    the same input set again would only repeat it.
    """
    for cause in _causes(exc):
        if isinstance(cause, BadInputFile):
            return FailureKind.DATA
    for cause in _causes(exc):
        if _unreachable(cause):
            return FailureKind.INFRASTRUCTURE
    return FailureKind.DATA


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and every cause or context behind it, once each."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _unreachable(exc: BaseException) -> bool:
    if isinstance(exc, StoreConnectionError | HTTPClientError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        return status >= 500 or str(exc.response.get("Error", {}).get("Code", "")) in _RETRYABLE_S3_CODES
    if isinstance(exc, KafkaError):
        return bool(exc.retriable) or type(exc).__name__ in {"KafkaTimeoutError", "NoBrokersAvailable"}
    if any(part in type(exc).__module__ for part in ("py4j", "pyspark")):
        text = str(exc)
        return any(marker in text for marker in _JVM_UNREACHABLE)
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off between runs of an input set whose run failed on the infrastructure: 2 s, 4 s, ... up to 60 s."""

    first_seconds: float = 2.0
    factor: float = 2.0
    max_seconds: float = 60.0

    def delay(self, failures: int) -> float:
        return float(min(self.max_seconds, self.first_seconds * self.factor ** max(failures - 1, 0)))


Runner = Callable[[RunRequest], RunOutcome]


@dataclass
class RunScheduler:
    """Decides whether the current landing input set deserves a run, and runs it.

    No run while a dataset has no object; none for an input set that already has a succeeded run the engine's
    pointer names (after rolling the pointer forward to it: replayed or duplicate events do nothing, and a
    restart after a crash between manifest and pointer does not compute the run again); none for an input set
    whose run failed on its data. After an infrastructure failure (the store or the broker unreachable, in the
    run or before it) nothing is marked: the same input set is tried again once `retry_due`, with back-off.
    """

    store: ObjectStore
    landing_bucket: str
    buckets: Buckets
    engine: Engine
    reference_date: date | None = None  # None: the UTC date at run start
    clock: Callable[[], float] = time.monotonic
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    last_attempted: str | None = None  # input set whose run failed on its data
    infrastructure_failures: int = 0  # in a row
    retry_at: float | None = None  # clock time of the next attempt after an infrastructure failure
    last_error: str | None = None

    def __post_init__(self) -> None:
        self.lake = Lake(self.store, self.buckets)  # caches the manifests it reads (they never change)

    @property
    def backing_off(self) -> bool:
        return self.retry_at is not None and self.clock() < self.retry_at

    @property
    def retry_due(self) -> bool:
        """An infrastructure failure is waiting to be retried and its back-off has passed."""
        return self.retry_at is not None and self.clock() >= self.retry_at

    def maybe_run(self, runner: Runner) -> RunOutcome | None:
        """Run the current input set if it deserves a run. An infrastructure error is logged and backed off (not
        raised); any other error escaping a run (a missing bucket, a bug) is raised."""
        if self.backing_off:
            return None
        try:
            outcome = self._maybe_run(runner)
        except Exception as exc:
            if classify_failure(exc) is not FailureKind.INFRASTRUCTURE:
                raise
            self._back_off(error_text(exc))
            return None
        if outcome is not None and outcome.manifest.retryable:
            self._back_off(outcome.manifest.error or "")
        elif outcome is not None or self.retry_at is not None:
            self.infrastructure_failures, self.retry_at, self.last_error = 0, None, None
        return outcome

    def _maybe_run(self, runner: Runner) -> RunOutcome | None:
        inputs = list_landing(self.store, self.landing_bucket)
        waiting = missing_datasets(inputs)
        if waiting:
            log.info("waiting for %s: no object in s3://%s yet", ", ".join(waiting), self.landing_bucket)
            return None
        fingerprint = input_fingerprint(inputs)
        if fingerprint == self.last_attempted or self.already_done(fingerprint):
            log.debug("input set %s unchanged: no run", fingerprint[:6])
            return None
        now = datetime.now(UTC)
        request = RunRequest(inputs=inputs, reference_date=self.reference_date or now.date(), started_at=now)
        log.info("%s run %s starts on %d objects", self.engine, request.run_id, len(inputs))
        outcome = runner(request)
        manifest = outcome.manifest
        if not manifest.succeeded and not manifest.retryable:
            self.last_attempted = fingerprint
        log.info(
            "%s run %s %s in %.1f s%s",
            self.engine,
            manifest.run_id,
            manifest.status,
            manifest.seconds.total if manifest.seconds else float("nan"),
            f" ({manifest.failure} failure): {manifest.error}" if manifest.error else "",
        )
        return outcome

    def already_done(self, fingerprint: str) -> bool:
        """True if the engine's pointer names a succeeded run of this input set, once rolled forward to the newest
        one; or if a run of it failed on its data. A pointer already naming a newer run of another input set
        stays (pointers never move back), so an input set that comes back is run again."""
        runs = self.lake.runs_of_input_set(self.engine, fingerprint)
        succeeded = [m for m in runs if m.succeeded]
        if succeeded:
            newest = succeeded[0]
            published = publish_run(self.store, self.buckets.gold, newest)
            if published.engine_moved:
                log.info("%s pointer rolled forward to %s (recorded, not yet published)", self.engine, newest.run_id)
            pointer = self.lake.pointer(self.engine)
            if pointer is not None and pointer.run_id in {m.run_id for m in succeeded}:
                return True
        if any(not m.succeeded and not m.retryable for m in runs):
            log.info("input set %s failed on its data before: not run again until it changes", fingerprint[:6])
            self.last_attempted = fingerprint
            return True
        return False

    def _back_off(self, error: str) -> None:
        self.infrastructure_failures += 1
        delay = self.retry.delay(self.infrastructure_failures)
        self.retry_at = self.clock() + delay
        self.last_error = error
        log.warning(
            "%s: infrastructure failure #%d (%s); the input set is tried again in %.0f s",
            self.engine,
            self.infrastructure_failures,
            error,
            delay,
        )
