"""The lake as readers see it: runs from manifests (never from bare folders), pointers, lookups by input set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs.pandas_engine.run import RunOutcome, RunRequest, execute_run
from tests.landing import BUCKETS, LANDING, csv_bytes
from tests.rule_cases import BASE_ROWS, REFERENCE_DATE
from twinlake.catalog import Lake, RunNotFound, RunRef
from twinlake.datasets import DatasetName
from twinlake.inputs import list_landing
from twinlake.layout import Engine
from twinlake.store import LocalStore

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


def run(store: LocalStore, started_at: datetime) -> RunOutcome:
    return execute_run(store, LANDING, BUCKETS, RunRequest(list_landing(store, LANDING), REFERENCE_DATE, started_at))


def add_client(store: LocalStore, client_id: str) -> None:
    row = {**BASE_ROWS[DatasetName.CLIENTS], "client_id": client_id, "email": f"c{client_id}@example.com"}
    store.put(LANDING, f"clients/{client_id}.csv", csv_bytes(DatasetName.CLIENTS, [row]))


def test_runs_are_listed_newest_first_with_failed_ones_and_without_orphans(store: LocalStore) -> None:
    first = run(store, T0).manifest
    add_client(store, "7")
    second = run(store, T0 + timedelta(minutes=1)).manifest
    store.put(LANDING, "clients/bad.csv", b"")
    failed = run(store, T0 + timedelta(minutes=2)).manifest
    assert failed.status == "failed"
    # a killed run: tables but no manifest
    store.put(BUCKETS.gold, "pandas/20261126T160000Z-abcdef/kpi_global/part-00000.parquet", b"partial")
    store.put(BUCKETS.bronze, "pandas/20261126T160000Z-abcdef/clients/part-00000.parquet", b"partial")
    lake = Lake(store, BUCKETS)
    assert [m.run_id for m in lake.runs()] == [failed.run_id, second.run_id, first.run_id]
    assert [m.run_id for m in lake.succeeded_runs(Engine.PANDAS)] == [second.run_id, first.run_id]
    assert lake.runs(Engine.SPARK) == []
    assert "20261126T160000Z-abcdef" in lake.run_folders(Engine.PANDAS)
    with pytest.raises(RunNotFound, match="no manifest"):
        lake.manifest(RunRef(Engine.PANDAS, "20261126T160000Z-abcdef"))
    assert lake.previous_run(second) == first
    assert lake.previous_run(first) is None
    assert lake.previous_run(failed, succeeded=False) == second


def test_pointers_and_resolve(store: LocalStore) -> None:
    lake = Lake(store, BUCKETS)
    assert lake.pointer() is None
    with pytest.raises(RunNotFound, match="no engine has a succeeded run yet"):
        lake.resolve()
    with pytest.raises(RunNotFound, match="the spark engine has no succeeded run yet"):
        lake.resolve(Engine.SPARK)
    first = run(store, T0).manifest
    pointed = lake.pointed_runs()
    assert pointed[Engine.PANDAS] == pointed[None] == RunRef(Engine.PANDAS, first.run_id)
    assert pointed[Engine.SPARK] is None
    assert lake.resolve() == first
    assert lake.resolve(run_id=first.run_id) == first
    with pytest.raises(RunNotFound, match="no run 20990101T000000Z-000000 of any engine"):
        lake.resolve(run_id="20990101T000000Z-000000")


def test_runs_of_an_input_set_are_found_by_fingerprint(store: LocalStore) -> None:
    first = run(store, T0).manifest
    again = run(store, T0 + timedelta(minutes=3)).manifest  # same inputs, a second run (what faults can cause)
    add_client(store, "8")
    other = run(store, T0 + timedelta(minutes=5)).manifest
    lake = Lake(store, BUCKETS)
    found = lake.runs_of_input_set(Engine.PANDAS, first.input_fingerprint)
    assert [m.run_id for m in found] == [again.run_id, first.run_id]
    assert [m.run_id for m in lake.runs_of_input_set(Engine.PANDAS, other.input_fingerprint)] == [other.run_id]
    assert lake.runs_of_input_set(Engine.SPARK, first.input_fingerprint) == []
