"""The Pandas worker's loop with fakes for Kafka and the clock: windows, idempotence, offsets, dead letters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jobs.pandas_engine.run import execute_run
from jobs.pandas_engine.worker import PandasWorker
from jobs.runs import RunOutcome
from tests.landing import LANDING
from tests.worker_fakes import Clock, FakeConsumer, FakeProducer, Record, event, letters
from twinlake.settings import Settings
from twinlake.store import LocalStore


def make_worker(settings: Settings, store: LocalStore, consumer: FakeConsumer, clock: Clock) -> PandasWorker:
    return PandasWorker(settings, store, consumer, letters(settings, FakeProducer()), clock=clock)


def test_events_within_the_window_make_one_run_and_offsets_commit_after_it(
    settings: Settings, store: LocalStore
) -> None:
    clock, consumer = Clock(), FakeConsumer()
    worker = make_worker(settings, store, consumer, clock)
    worker.next_reconcile = clock.now + 3600  # isolate the window from the start-up reconcile
    consumer.queue = [[event("clients.csv", 0)], [event("purchases.csv", 1)], [event("promotions/x.csv", 2)]]
    assert worker.step() is None and worker.step() is None  # window open: no run yet, no commit
    assert consumer.commits == 0
    clock.now += 2.5
    outcome = worker.step()
    assert outcome is not None and outcome.manifest.succeeded
    assert consumer.commits == 1 and len(worker.outcomes) == 1


def test_replayed_events_make_no_new_run(settings: Settings, store: LocalStore) -> None:
    clock, consumer = Clock(), FakeConsumer()
    worker = make_worker(settings, store, consumer, clock)
    assert worker.step() is not None  # start-up reconcile runs on what is in landing
    fresh = make_worker(settings, store, FakeConsumer([[event("clients.csv", 0)]]), clock)  # e.g. a restart
    fresh.next_reconcile = clock.now + 3600
    fresh.step()
    clock.now += 3
    assert fresh.step() is None  # same input set as the last successful run: nothing to do
    assert fresh.outcomes == []


def test_a_run_waits_for_all_three_datasets(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lonely = LocalStore(tmp_path / "lonely")
    lonely.put(LANDING, "clients.csv", b"client_id,name,email,signup_date,country\n1,a,a@b.cd,2020-01-01,France\n")
    worker = make_worker(settings, lonely, FakeConsumer(), Clock())
    with caplog.at_level("INFO"):
        assert worker.step() is None
    assert "waiting for purchases, promotions" in caplog.text


def test_poison_goes_to_the_dead_letter_topic_and_the_worker_goes_on(settings: Settings, store: LocalStore) -> None:
    clock = Clock()
    consumer = FakeConsumer([[Record(b"\xff not json", 7)], [event("clients.csv", 8)]])
    producer = FakeProducer()
    worker = PandasWorker(settings, store, consumer, letters(settings, producer), clock=clock)
    worker.next_reconcile = clock.now + 3600
    worker.step()
    assert [t for t, _ in producer.sent] == [settings.dead_letter_topic]
    assert json.loads(producer.sent[0][1])["source"]["offset"] == 7
    assert consumer.commits == 1  # a batch of nothing but poison is safe to commit at once
    worker.step()
    clock.now += 2.5
    assert worker.step() is not None


def test_reconcile_catches_a_lost_event(settings: Settings, store: LocalStore) -> None:
    clock = Clock()
    worker = make_worker(settings, store, FakeConsumer(), clock)
    worker.step()  # start-up reconcile: first run
    store.put(
        LANDING,
        "clients/late.csv",
        b"client_id,name,email,signup_date,country\n5,Eve,eve@example.com,2020-01-01,Spain\n",
    )
    assert worker.step() is None  # no event arrived, reconcile not due yet
    clock.now += 61
    outcome = worker.step()
    assert outcome is not None and outcome.manifest.succeeded and len(outcome.manifest.inputs) == 4


def test_a_failed_input_set_is_not_retried_until_it_changes(settings: Settings, store: LocalStore) -> None:
    store.put(LANDING, "clients/bad.csv", b"")
    clock = Clock()
    worker = make_worker(settings, store, FakeConsumer(), clock)
    failed = worker.step()
    assert failed is not None and failed.manifest.status == "failed"
    clock.now += 61
    assert worker.step() is None
    store.delete_prefix(LANDING, "clients/bad.csv")
    clock.now += 61
    fixed = worker.step()
    assert fixed is not None and fixed.manifest.succeeded


def test_events_arriving_during_a_run_are_handled_after_it(settings: Settings, store: LocalStore) -> None:
    clock, consumer = Clock(), FakeConsumer()
    worker = make_worker(settings, store, consumer, clock)

    def run_while_a_file_lands(*args: Any) -> RunOutcome:
        outcome = execute_run(*args)
        if len(worker.outcomes) == 0:  # during the first run, a new file lands and its event is queued
            store.put(
                LANDING,
                "clients/during.csv",
                b"client_id,name,email,signup_date,country\n9,Z,z@z.io,2020-01-01,Italy\n",
            )
            consumer.queue.append([event("clients/during.csv", 42)])
        return outcome

    worker.runner = run_while_a_file_lands
    first = worker.step()  # start-up reconcile: the first run
    assert first is not None and consumer.commits == 1
    worker.step()  # the event queued during the run is polled now: it opens a window
    clock.now += 2.5
    second = worker.step()
    assert second is not None and second.manifest.succeeded
    assert "clients/during.csv" in [i.key for i in second.manifest.inputs]


@dataclass
class LogConsumer:
    """One partition of a topic as a log: `poll` reads from the position, `commit` commits it, `seek` moves it."""

    log: list[Record]
    position: int = 0
    committed_offset: int | None = None
    on_poll: Any = None

    def poll(self, timeout_ms: int = 0) -> dict[str, list[Record]]:
        if self.on_poll is not None:
            self.on_poll()
        batch = self.log[self.position : self.position + 1]
        self.position += len(batch)
        return {"tp0": batch} if batch else {}

    def commit(self) -> None:
        self.committed_offset = self.position

    def assignment(self) -> set[str]:
        return {"tp0"}

    broker_down_for: int = 0  # calls to `committed` that fail, as when the broker is unreachable

    def committed(self, partition: str) -> int | None:
        if self.broker_down_for:
            self.broker_down_for -= 1
            from kafka.errors import KafkaTimeoutError

            raise KafkaTimeoutError("no answer from the group coordinator")
        return self.committed_offset

    def seek(self, partition: str, offset: int) -> None:
        self.position = offset

    def seek_to_beginning(self, *partitions: str) -> None:
        self.position = 0

    def close(self) -> None:
        return None


class FlakyProducer(FakeProducer):
    """The broker does not acknowledge the first `failures` dead-letter writes."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def send(self, topic: str, value: bytes | None = None, key: bytes | None = None, **kwargs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            from kafka.errors import KafkaTimeoutError

            raise KafkaTimeoutError("no acknowledgement from the broker")
        return super().send(topic, value, key)


def run_on_a_flaky_broker(settings: Settings, store: LocalStore, consumer: LogConsumer, polls: int) -> list[int]:
    """`run_forever` for `polls` polls (a second each, so event windows close) while the broker does not acknowledge
    the first dead-letter write; returns the source offsets of what reached the dead-letter topic."""
    producer = FlakyProducer(failures=1)
    clock = Clock()
    worker = PandasWorker(settings, store, consumer, letters(settings, producer), clock=clock)
    left = iter(range(polls))

    def tick() -> None:
        clock.now += 1
        if next(left, None) is None:
            worker.stopping = True

    consumer.on_poll = tick
    worker.run_forever()
    return [json.loads(v)["source"]["offset"] for t, v in producer.sent if t == settings.dead_letter_topic]


def test_a_message_that_could_not_be_dead_lettered_is_not_lost(
    settings: Settings, store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jobs.pandas_engine.worker.time.sleep", lambda seconds: None)
    consumer = LogConsumer([Record(b"\xff poison", 0), event("clients.csv", 1), event("purchases.csv", 2)])
    # the poison reached the dead-letter topic once the broker answered, and nothing was committed past it before
    assert run_on_a_flaky_broker(settings, store, consumer, polls=12) == [0]
    assert consumer.committed_offset == 3


def test_a_rewind_the_broker_refused_is_done_before_the_next_poll(
    settings: Settings, store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jobs.pandas_engine.worker.time.sleep", lambda seconds: None)
    consumer = LogConsumer([Record(b"\xff poison", 0), event("clients.csv", 1)], broker_down_for=2)
    assert run_on_a_flaky_broker(settings, store, consumer, polls=10) == [0]
    assert consumer.committed_offset == 2
