"""The Pandas worker on the real stack: upload -> event -> run -> manifest -> pointer; replays; a bad file."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from jobs.pandas_engine.run import RunOutcome
from jobs.pandas_engine.worker import PandasWorker
from producers.upload import upload_paths
from twinlake.broker import dead_letters, event_consumer, event_producer
from twinlake.layout import Engine, engine_pointer, global_pointer
from twinlake.pointer import read_pointer
from twinlake.s3 import s3_client
from twinlake.settings import Settings
from twinlake.store import S3Store

pytestmark = pytest.mark.integration
AS_OF = date(2026, 11, 26)


@pytest.fixture(scope="module")
def generated(generated_landing: Callable[..., Path]) -> Path:
    return generated_landing(5000, 11, AS_OF, 0.01)


@pytest.fixture
def settings(stack_settings: Settings) -> Settings:
    return stack_settings.model_copy(
        update={"reference_date": AS_OF, "batch_window_seconds": 1.0, "reconcile_seconds": 3600.0}
    )


@pytest.fixture
def landing(uploader_settings: Settings) -> Iterator[S3Store]:
    """The uploader's view of the store (it writes and clears landing); landing is empty before and after."""
    s = S3Store(s3_client(uploader_settings))
    s.delete_prefix(uploader_settings.landing_bucket, "")
    yield s
    s.delete_prefix(uploader_settings.landing_bucket, "")


@pytest.fixture
def store(settings: Settings, landing: S3Store) -> S3Store:
    """The engines' view of the store (the worker's keys): reads landing, writes the lake."""
    return S3Store(s3_client(settings))


@pytest.fixture
def worker(settings: Settings, store: S3Store) -> Iterator[PandasWorker]:
    consumer = event_consumer(settings, f"test-pandas-{uuid.uuid4().hex[:8]}", auto_offset_reset="latest")
    w = PandasWorker(settings, store, consumer, dead_letters(settings))
    w.step()  # joins the group, gets partitions, start-up reconcile (landing is empty: waits)
    while not consumer.assignment():
        w.step()
    yield w
    consumer.close()


def step_until_run(worker: PandasWorker, timeout: float = 60) -> RunOutcome:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcome = worker.step()
        if outcome is not None:
            return outcome
    raise AssertionError(f"no run within {timeout} s")


def steps_without_run(worker: PandasWorker, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert worker.step() is None


def test_upload_run_manifest_pointer_then_replay_then_bad_file(
    worker: PandasWorker,
    store: S3Store,
    landing: S3Store,
    settings: Settings,
    uploader_settings: Settings,
    generated: Path,
) -> None:
    truth = json.loads((generated / "truth.json").read_text())["datasets"]
    uploaded = upload_paths(uploader_settings, [generated], progress=False)
    landed = time.monotonic()
    outcome = step_until_run(worker)
    landed_to_pointer = time.monotonic() - landed
    manifest = outcome.manifest
    assert manifest.succeeded, manifest.error
    assert sorted((i.key, i.etag) for i in manifest.inputs) == sorted((u.key, u.etag) for u in uploaded)
    for name, counts in manifest.datasets.items():
        expected = truth[str(name)]
        assert (counts.rows_in, counts.rows_clean, counts.rows_rejected) == (
            expected["rows_written"],
            expected["rows_clean"],
            expected["rows_rejected"],
        )
        assert counts.rejected_by_rule == expected["rejected_by_rule"]
    pointer = read_pointer(store, engine_pointer(settings.gold_bucket, Engine.PANDAS))
    assert pointer is not None and pointer[0].run_id == manifest.run_id
    latest = read_pointer(store, global_pointer(settings.gold_bucket))
    assert latest is not None and latest[0].run_id >= manifest.run_id
    print(f"\nlanded-to-pointer (5k rows x 3, event path): {landed_to_pointer:.2f} s")

    # the same events again (a replay): no new run
    producer = event_producer(settings)
    for u in uploaded:
        record = {
            "eventName": "s3:ObjectCreated:Put",
            "eventTime": "2026-11-26T15:30:00Z",
            "s3": {
                "bucket": {"name": settings.landing_bucket},
                "object": {"key": u.key, "size": u.size, "eTag": f'"{u.etag}"'},
            },
        }
        producer.send(settings.events_topic, json.dumps({"Records": [record]}).encode())
    producer.flush(10)
    steps_without_run(worker, 4)

    # a bad file: the run fails with the reason, the pointer stays, the worker goes on
    bad = generated.parent / "bad" / "clients" / "broken.csv"
    bad.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own: a bad input set is never retried, and this lake may have seen this file before
    bad.write_text(f"client_id;name;email;signup_date;country\n1;{uuid.uuid4().hex};a@b.cd;2020-01-01;France\n")
    landing.put(settings.landing_bucket, "clients/broken.csv", bad.read_bytes())
    failed = step_until_run(worker).manifest
    assert failed.status == "failed" and failed.error and "clients/broken.csv: wrong delimiter" in failed.error
    pointer_after = read_pointer(store, engine_pointer(settings.gold_bucket, Engine.PANDAS))
    assert pointer_after is not None and pointer_after[0].run_id == manifest.run_id
    landing.delete_prefix(settings.landing_bucket, "clients/broken.csv")
    steps_without_run(worker, 3)  # back to the last good input set: nothing to do, and still consuming
