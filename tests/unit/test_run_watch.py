"""Waiting for an engine's run of an input set: the run its pointer names (timed by the pointer), a failed run,
an engine that went away, a timeout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs import run_watch
from jobs.pandas_engine.run import execute_run
from jobs.run_watch import RunSeen, run_of_input_set, wait_for_runs
from jobs.runs import RunRequest
from tests.landing import BUCKETS, LANDING
from tests.rule_cases import REFERENCE_DATE
from twinlake.catalog import Lake
from twinlake.inputs import input_fingerprint, list_landing
from twinlake.layout import Engine
from twinlake.store import LocalStore

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_watch, "POLL_SECONDS", 0.01)


def run(store: LocalStore) -> str:
    inputs = list_landing(store, LANDING)
    execute_run(store, LANDING, BUCKETS, RunRequest(inputs, REFERENCE_DATE, T0))
    return input_fingerprint(inputs)


def test_the_run_the_pointer_names_is_seen_with_the_pointer_time(store: LocalStore) -> None:
    fingerprint = run(store)
    lake = Lake(store, BUCKETS)
    seen = run_of_input_set(lake, Engine.PANDAS, fingerprint)
    assert seen is not None and seen.manifest.succeeded and seen.manifest.input_fingerprint == fingerprint
    pointer = lake.pointer(Engine.PANDAS)
    assert pointer is not None and seen.pointer_moved_at == pointer.generated_at
    landed = seen.pointer_moved_at - timedelta(seconds=7.5)
    assert seen.landed_to_pointer(landed) == 7.5
    assert run_of_input_set(lake, Engine.SPARK, fingerprint) is None
    assert run_of_input_set(lake, Engine.PANDAS, "f" * 64) is None


def test_a_failed_run_is_seen_without_a_pointer_time(store: LocalStore) -> None:
    store.put(LANDING, "clients.csv", b"")  # an empty object fails the run
    fingerprint = run(store)
    outcome = wait_for_runs(Lake(store, BUCKETS), [Engine.PANDAS], fingerprint, timeout=5)
    seen = outcome[Engine.PANDAS]
    assert isinstance(seen, RunSeen) and not seen.manifest.succeeded and seen.pointer_moved_at is None
    assert seen.landed_to_pointer(T0) is None


def test_a_timeout_and_a_gone_engine_are_reasons(store: LocalStore) -> None:
    fingerprint = run(store)
    polls: list[float] = []
    outcome = wait_for_runs(
        Lake(store, BUCKETS),
        [Engine.PANDAS, Engine.SPARK],
        "0" * 64,
        timeout=0.05,
        on_poll=lambda pending, elapsed: polls.append(elapsed),
    )
    assert outcome == {
        Engine.PANDAS: "no pandas run of the input set within 0 s",
        Engine.SPARK: "no spark run of the input set within 0 s",
    }
    assert polls
    outcome = wait_for_runs(
        Lake(store, BUCKETS),
        [Engine.PANDAS, Engine.SPARK],
        fingerprint,
        timeout=5,
        gone=lambda engine: "the spark engine exited with code 1" if engine == Engine.SPARK else None,
    )
    assert isinstance(outcome[Engine.PANDAS], RunSeen)
    assert outcome[Engine.SPARK] == "the spark engine exited with code 1"
