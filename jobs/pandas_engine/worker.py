"""The Pandas worker: consumes store events, batches them in a short window, and runs the pipeline when the
landing input set changed.

Guarantees (each one tested):
- A run reads ALL current landing objects; it starts only when every dataset has one.
- Idempotent: an input set that has a succeeded run (the pointer is rolled forward to it if a crash left it
  behind) or whose run failed on its data makes no run, so duplicate or replayed events and restarts do nothing.
- A run the infrastructure failed (the store or the broker unreachable, even before a manifest could be written)
  is made again with back-off once the store answers (`jobs.runs.RunScheduler`).
- Offsets are committed only after the run is recorded (manifest written), so a crash never loses an event.
  Events arriving during a run wait in Kafka and are handled after it.
- A periodic reconcile lists landing even without events, so an event lost by the store or broker is caught.
- Poison messages go to the dead-letter topic (once each, in a record that always fits); nothing a message
  contains stops the worker. If the dead-letter write itself fails (the broker is unreachable), the step fails,
  the consumer rewinds to its committed offsets and the messages are read again after a pause: none is skipped.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from jobs.health import beat
from jobs.pandas_engine.run import ENGINE, execute_run
from jobs.runs import RunOutcome, RunRequest, RunScheduler
from twinlake.dead_letter import DeadLetters, handle_raw_message, source_of
from twinlake.layout import Buckets
from twinlake.settings import Settings
from twinlake.store import ObjectStore

log = logging.getLogger(__name__)
ERROR_PAUSE_SECONDS = 5.0
Runner = Callable[[ObjectStore, str, Buckets, RunRequest], RunOutcome]


class PandasWorker:
    """One consumer loop; `step()` does one poll-and-maybe-run cycle so tests can drive it."""

    def __init__(
        self,
        settings: Settings,
        store: ObjectStore,
        consumer: Any,
        dead_letters: DeadLetters,
        runner: Runner = execute_run,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.store = store
        self.consumer = consumer
        self.dead_letters = dead_letters
        self.runner = runner
        self.clock = clock
        self.window_deadline: float | None = None
        self.next_reconcile = clock()  # reconcile at start: catch up on anything landed while we were down
        self.scheduler = RunScheduler(
            store, settings.landing_bucket, settings.lake, ENGINE, reference_date=settings.reference_date, clock=clock
        )
        self.stopping = False
        self.rewind_pending = False  # a failed step's messages must be read again before anything is committed
        self.outcomes: list[RunOutcome] = []

    def run_forever(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        log.info("pandas worker consuming %s as %s", self.settings.events_topic, self.group_id)
        while not self.stopping:
            try:
                self.step()
            except Exception:  # e.g. the broker unreachable: read again from the committed offsets, later
                log.exception("step failed; reading again from the committed offsets in %.0f s", ERROR_PAUSE_SECONDS)
                time.sleep(ERROR_PAUSE_SECONDS)
                self.rewind()
                continue
            beat(self.settings.heartbeat_file)
        self.consumer.close()

    @property
    def group_id(self) -> str:
        return self.settings.consumer_group(ENGINE)

    def rewind(self) -> None:
        """Move back to the committed offsets: messages polled since the last commit are read again.

        Without this the consumer's position stays past them, and the next commit would skip them for good.
        """
        self.window_deadline = None
        self.rewind_pending = True
        try:
            for partition in self.consumer.assignment():
                committed = self.consumer.committed(partition)
                if committed is None:
                    self.consumer.seek_to_beginning(partition)
                else:
                    self.consumer.seek(partition, committed)
        except Exception:  # the broker still unreachable: the next step tries again before it polls
            log.exception("could not rewind to the committed offsets yet")
            return
        self.rewind_pending = False

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the current step", signum)
        self.stopping = True

    def step(self, poll_timeout_ms: int = 500) -> RunOutcome | None:
        """Poll once; when the event window closes or a reconcile is due, maybe run; then commit offsets."""
        if self.rewind_pending:
            self.rewind()
            if self.rewind_pending:
                raise RuntimeError("the consumer could not rewind to its committed offsets: not polling past them")
        batches = self.consumer.poll(timeout_ms=poll_timeout_ms)
        relevant = 0
        for records in batches.values():
            for record in records:
                relevant += len(handle_raw_message(record.value, source_of(record), self.dead_letters, self.settings))
        now = self.clock()
        if relevant and self.window_deadline is None:
            self.window_deadline = now + self.settings.batch_window_seconds
        window_closed = self.window_deadline is not None and now >= self.window_deadline
        reconcile_due = now >= self.next_reconcile
        if not (window_closed or reconcile_due or self.scheduler.retry_due):
            if batches and self.window_deadline is None:
                self.consumer.commit()  # nothing but skipped or dead-lettered messages: safe to commit
            return None
        outcome = self.maybe_run()
        self.consumer.commit()  # only now: the run (if any) is recorded
        self.window_deadline = None
        self.next_reconcile = self.clock() + self.settings.reconcile_seconds
        return outcome

    def maybe_run(self) -> RunOutcome | None:
        """Run if every dataset has an object and the input set differs from the last run's."""
        outcome = self.scheduler.maybe_run(
            lambda request: self.runner(self.store, self.settings.landing_bucket, self.settings.lake, request)
        )
        if outcome is not None:
            self.outcomes.append(outcome)
        return outcome
