"""What every engine's run shares: the request, the layer timer, the manifest it ends with, and when to run at all.

An engine supplies only its layers (`jobs/<engine>_engine/run.py`); this module decides whether an input set
deserves a run and records how the run ended: the manifest is written last and create-only, and the pointers move
only for a manifest that says `succeeded`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from jobs.metrics import peak_rss_bytes, reset_peak_rss
from twinlake.datasets import DatasetName
from twinlake.inputs import input_fingerprint, list_landing, missing_datasets
from twinlake.layout import Engine, Location, RunLayout, engine_pointer, make_run_id
from twinlake.manifest import DatasetCounts, InputObject, LayerSeconds, RunManifest, read_manifest, write_manifest
from twinlake.pointer import PublishResult, publish_run, read_pointer
from twinlake.store import NotFound, ObjectStore

log = logging.getLogger(__name__)


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


def record_run(
    store: ObjectStore,
    layout: RunLayout,
    request: RunRequest,
    versions: Mapping[str, str],
    results: RunResults,
    timer: LayerTimer,
    error: str | None,
) -> RunOutcome:
    """Write the run's manifest (create-only), then publish it if it succeeded."""
    manifest = RunManifest(
        run_id=request.run_id,
        engine=layout.engine,
        versions=dict(versions),
        status="failed" if error else "succeeded",
        error=error,
        inputs=list(request.inputs),
        input_fingerprint=request.fingerprint,
        reference_date=request.reference_date,
        started_at=request.started_at,
        finished_at=datetime.now(UTC),
        datasets=results.counts,
        gold_row_counts=results.gold_row_counts,
        seconds=timer.seconds(),
        peak_memory_bytes=peak_rss_bytes(),
    )
    write_manifest(store, layout, manifest)
    published = publish_run(store, layout.buckets.gold, manifest) if manifest.succeeded else None
    return RunOutcome(manifest, published)


def error_text(exc: BaseException) -> str:
    """`Type: first line of the message`: what a failed manifest says (JVM traces stay in the log)."""
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message.splitlines()[0] if message else repr(exc)}"


def last_succeeded_fingerprint(store: ObjectStore, gold_bucket: str, engine: Engine) -> str | None:
    """The input fingerprint of the run the engine's pointer names (None before the first success)."""
    found = read_pointer(store, engine_pointer(gold_bucket, engine))
    if found is None:
        return None
    try:
        return read_manifest(store, Location(gold_bucket, found[0].manifest)).input_fingerprint
    except NotFound:
        return None


Runner = Callable[[RunRequest], RunOutcome]


@dataclass
class RunScheduler:
    """Decides whether the current landing input set deserves a run, and runs it.

    No run while a dataset has no object; none for the input set of the engine's last successful run (replayed or
    duplicate events do nothing); none for the input set whose run just failed (a bad file is not retried until
    the input set changes or the worker restarts).
    """

    store: ObjectStore
    landing_bucket: str
    gold_bucket: str
    engine: Engine
    reference_date: date | None = None  # None: the UTC date at run start
    last_attempted: str | None = None

    def maybe_run(self, runner: Runner) -> RunOutcome | None:
        inputs = list_landing(self.store, self.landing_bucket)
        waiting = missing_datasets(inputs)
        if waiting:
            log.info("waiting for %s: no object in s3://%s yet", ", ".join(waiting), self.landing_bucket)
            return None
        fingerprint = input_fingerprint(inputs)
        if fingerprint in (self.last_attempted, last_succeeded_fingerprint(self.store, self.gold_bucket, self.engine)):
            log.debug("input set %s unchanged: no run", fingerprint[:6])
            return None
        now = datetime.now(UTC)
        request = RunRequest(inputs=inputs, reference_date=self.reference_date or now.date(), started_at=now)
        log.info("%s run %s starts on %d objects", self.engine, request.run_id, len(inputs))
        self.last_attempted = fingerprint
        outcome = runner(request)
        manifest = outcome.manifest
        log.info(
            "%s run %s %s in %.1f s%s",
            self.engine,
            manifest.run_id,
            manifest.status,
            manifest.seconds.total if manifest.seconds else float("nan"),
            f": {manifest.error}" if manifest.error else "",
        )
        return outcome
