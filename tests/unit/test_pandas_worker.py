"""The Pandas worker's loop with fakes for Kafka and the clock: windows, idempotence, offsets, dead letters."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from jobs.pandas_engine.run import execute_run
from jobs.pandas_engine.worker import PandasWorker
from jobs.runs import RunOutcome
from tests.landing import LANDING
from twinlake.settings import Settings
from twinlake.store import LocalStore


@dataclass
class Record:
    value: bytes
    offset: int
    topic: str = "twinlake.store-events"
    partition: int = 0
    key: bytes | None = None


@dataclass
class FakeConsumer:
    queue: list[list[Record]] = field(default_factory=list)
    commits: int = 0
    polled: int = 0

    def poll(self, timeout_ms: int = 0) -> dict[str, list[Record]]:
        if not self.queue:
            return {}
        batch = self.queue.pop(0)
        self.polled += len(batch)
        return {"tp0": batch} if batch else {}

    def commit(self) -> None:
        self.commits += 1


@dataclass
class FakeProducer:
    sent: list[tuple[str, bytes]] = field(default_factory=list)

    def send(self, topic: str, value: bytes | None = None, key: bytes | None = None) -> Any:
        assert value is not None
        self.sent.append((topic, value))

        class Done:
            def get(self, timeout: float | None = None) -> None:
                return None

        return Done()

    def flush(self, timeout: float | None = None) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def event(key: str, offset: int) -> Record:
    body = {
        "Records": [
            {
                "eventName": "s3:ObjectCreated:Put",
                "eventTime": "2026-11-26T15:30:00Z",
                "s3": {"bucket": {"name": LANDING}, "object": {"key": key, "size": 10, "eTag": "abc"}},
            }
        ]
    }
    return Record(json.dumps(body).encode(), offset)


@pytest.fixture
def settings() -> Settings:
    return Settings(
        s3_access_key="k",
        s3_secret_key="s",
        reference_date=date(2026, 11, 26),  # type: ignore[arg-type]
        batch_window_seconds=2.0,
        reconcile_seconds=60.0,
    )


def make_worker(settings: Settings, store: LocalStore, consumer: FakeConsumer, clock: Clock) -> PandasWorker:
    return PandasWorker(settings, store, consumer, FakeProducer(), clock=clock)


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
    worker = PandasWorker(settings, store, consumer, producer, clock=clock)
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
