"""When an engine runs, retries or rolls forward: infrastructure failures against bad data, and "already done".

The engine is the Pandas worker (real runs on a folder-backed store, fakes for Kafka and the clock); an outage is a
store wrapper that raises what botocore raises when the S3 endpoint does not answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from kafka.errors import KafkaTimeoutError

from jobs.pandas_engine.run import execute_run
from jobs.pandas_engine.worker import PandasWorker
from jobs.runs import RetryPolicy, RunOutcome, RunRequest, classify_failure
from tests.landing import BUCKETS, LANDING
from tests.worker_fakes import Clock, FakeConsumer, FakeProducer, letters
from twinlake.catalog import Lake
from twinlake.inputs import BadInputFile, input_fingerprint, list_landing
from twinlake.layout import Engine, engine_pointer, global_pointer
from twinlake.manifest import FailureKind
from twinlake.pointer import read_pointer
from twinlake.settings import Settings
from twinlake.store import LocalStore, ObjectStore


@dataclass
class OutageStore:
    """A store that can go down (every call raises as botocore does) or fail given calls once."""

    inner: LocalStore
    down: bool = False
    fail_once: set[str] = field(default_factory=set)  # "<method> <bucket>": the next such call times out

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise EndpointConnectionError(endpoint_url="http://127.0.0.1:7070/")
            if args and f"{name} {args[0]}" in self.fail_once:
                self.fail_once.discard(f"{name} {args[0]}")
                raise ReadTimeoutError(endpoint_url=f"http://127.0.0.1:7070/{args[0]}")
            return method(*args, **kwargs)

        return call


def worker_on(settings: Settings, store: ObjectStore, clock: Clock) -> PandasWorker:
    return PandasWorker(settings, store, FakeConsumer(), letters(settings, FakeProducer()), clock=clock)


def step(worker: PandasWorker) -> RunOutcome | None:
    """One loop step as `run_forever` does it: an escaping error is logged and the loop goes on."""
    try:
        return worker.step()
    except Exception:
        worker.rewind()
        return None


def runs_of_landing(store: ObjectStore) -> list[Any]:
    fingerprint = input_fingerprint(list_landing(store, LANDING))
    return Lake(store, BUCKETS).runs_of_input_set(Engine.PANDAS, fingerprint)


def test_a_run_the_store_outage_killed_is_made_when_the_store_returns(settings: Settings, store: LocalStore) -> None:
    outage, clock = OutageStore(store), Clock()
    worker = worker_on(settings, outage, clock)

    def run_during_an_outage(*args: Any) -> RunOutcome:
        outage.down = True  # the store dies once the run has started: not even a failed manifest can be written
        return execute_run(*args)

    worker.runner = run_during_an_outage
    assert step(worker) is None
    outage.down = False
    assert runs_of_landing(store) == []  # nothing recorded
    worker.runner = execute_run
    clock.now += 61  # the store is back; a reconcile (or the retry) is due
    outcome = step(worker)
    assert outcome is not None and outcome.manifest.succeeded, outcome
    assert [m.status for m in runs_of_landing(store)] == ["succeeded"]


def test_an_infrastructure_failure_that_was_recorded_is_retried_with_back_off(
    settings: Settings, store: LocalStore
) -> None:
    outage, clock = OutageStore(store, fail_once={f"get {LANDING}"}), Clock()
    worker = worker_on(settings, outage, clock)
    first = step(worker)
    assert first is not None and first.manifest.status == "failed"
    assert first.manifest.error is not None and "ReadTimeoutError" in first.manifest.error
    assert first.manifest.failure == "infrastructure"
    assert step(worker) is None  # backing off
    time.sleep(1.1)  # run ids have a one-second resolution (the back-off is 2 s in real time)
    clock.now += 2
    second = step(worker)
    assert second is not None and second.manifest.succeeded
    assert sorted(m.status for m in runs_of_landing(store)) == ["failed", "succeeded"]


def test_a_bad_file_is_not_retried_for_the_same_input_set_even_after_a_restart(
    settings: Settings, store: LocalStore
) -> None:
    store.put(LANDING, "clients/bad.csv", b"")
    clock = Clock()
    failed = step(worker_on(settings, store, clock))
    assert failed is not None and failed.manifest.status == "failed"
    time.sleep(1.1)  # run ids have a one-second resolution: a second run now would get a new one
    restarted = worker_on(settings, store, clock)  # a new process: no memory of the last attempt
    assert step(restarted) is None
    clock.now += 61
    assert step(restarted) is None
    assert [m.status for m in runs_of_landing(store)] == ["failed"]


def test_a_run_recorded_before_its_pointer_moved_is_rolled_forward_not_run_again(
    settings: Settings, store: LocalStore
) -> None:
    clock = Clock()
    before = step(worker_on(settings, store, clock))
    assert before is not None and before.manifest.succeeded
    store.put(LANDING, "clients/more.csv", b"client_id,name,email,signup_date,country\n7,Gus,g@x.io,2020-01-01,Spain\n")
    inputs = list_landing(store, LANDING)
    # an engine killed between writing the manifest and moving the pointers: the run is recorded, not published
    pointers = {where: store.get(where.bucket, where.key).body for where in pointer_locations()}
    recorded = execute_run(store, LANDING, BUCKETS, RunRequest(inputs, settings.reference_date, before_now()))
    for where, body in pointers.items():
        store.put(where.bucket, where.key, body)
    assert pointed(store) == before.manifest.run_id

    restarted = worker_on(settings, store, clock)
    assert step(restarted) is None  # no second run of the same input set
    assert [m.run_id for m in runs_of_landing(store)] == [recorded.manifest.run_id]
    assert pointed(store) == recorded.manifest.run_id  # rolled forward to the recorded run


def pointer_locations() -> list[Any]:
    return [engine_pointer(BUCKETS.gold, Engine.PANDAS), global_pointer(BUCKETS.gold)]


def pointed(store: ObjectStore) -> str | None:
    found = read_pointer(store, engine_pointer(BUCKETS.gold, Engine.PANDAS))
    return None if found is None else found[0].run_id


def before_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


class Py4JJavaError(Exception):
    """Stands for py4j's error: what the JVM raised, as text."""


Py4JJavaError.__module__ = "py4j.protocol"


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject")


def chained(outer: Exception, cause: Exception) -> Exception:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (EndpointConnectionError(endpoint_url="http://s3"), FailureKind.INFRASTRUCTURE),
        (ReadTimeoutError(endpoint_url="http://s3"), FailureKind.INFRASTRUCTURE),
        (client_error("SlowDown", 503), FailureKind.INFRASTRUCTURE),
        (client_error("InternalError", 500), FailureKind.INFRASTRUCTURE),
        (ConnectionRefusedError("refused"), FailureKind.INFRASTRUCTURE),
        (KafkaTimeoutError("no ack"), FailureKind.INFRASTRUCTURE),
        (Py4JJavaError("o75.parquet: java.net.ConnectException: Connection refused"), FailureKind.INFRASTRUCTURE),
        (chained(RuntimeError("write failed"), EndpointConnectionError(endpoint_url="x")), FailureKind.INFRASTRUCTURE),
        (client_error("NoSuchBucket", 404), FailureKind.DATA),  # a setup error: retrying repeats it
        (client_error("AccessDenied", 403), FailureKind.DATA),
        (BadInputFile("clients.csv", "malformed CSV: [Connection refused]"), FailureKind.DATA),  # whatever it says
        (Py4JJavaError("MALFORMED_RECORD_IN_PARSING"), FailureKind.DATA),
        (KeyError("a bug"), FailureKind.DATA),
        (ValueError("Connection refused"), FailureKind.DATA),  # text alone counts only in JVM errors
    ],
)
def test_failures_are_told_apart(exc: Exception, kind: FailureKind) -> None:
    assert classify_failure(exc) is kind


def test_back_off_doubles_up_to_a_bound() -> None:
    policy = RetryPolicy(first_seconds=2, factor=2, max_seconds=30)
    assert [policy.delay(n) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]
