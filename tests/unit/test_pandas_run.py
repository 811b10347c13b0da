"""The Pandas engine's run end to end on a folder-backed store: layout, manifest, pointers, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs.pandas_engine.run import RunOutcome, RunRequest, execute_run
from tests.csv_cases import BAD_FILES
from tests.landing import BUCKETS, LANDING, csv_bytes
from tests.rule_cases import BASE_ROWS, REFERENCE_DATE
from twinlake.datasets import DatasetName
from twinlake.gold import GOLD_TABLES
from twinlake.inputs import list_landing
from twinlake.layout import Engine, Location, RunLayout, engine_pointer, global_pointer
from twinlake.manifest import read_manifest
from twinlake.pointer import read_pointer
from twinlake.store import LocalStore
from twinlake.tables import read_table

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


def run(store: LocalStore, started_at: datetime = T0) -> RunOutcome:
    request = RunRequest(list_landing(store, LANDING), REFERENCE_DATE, started_at)
    return execute_run(store, LANDING, BUCKETS, request)


def pointer_run(store: LocalStore, where: Location) -> str | None:
    found = read_pointer(store, where)
    return found[0].run_id if found else None


def test_a_run_writes_every_layer_then_the_manifest_then_the_pointers(store: LocalStore) -> None:
    outcome = run(store)
    manifest = outcome.manifest
    assert manifest.status == "succeeded", manifest.error
    layout = RunLayout(BUCKETS, Engine.PANDAS, manifest.run_id)
    for name in DatasetName:
        assert read_table(store, layout.bronze(name)).num_rows == manifest.datasets[name].rows_in
        assert read_table(store, layout.silver(name)).num_rows == manifest.datasets[name].rows_clean
        assert read_table(store, layout.silver_rejected(name)).num_rows == manifest.datasets[name].rows_rejected
    assert manifest.datasets[DatasetName.PURCHASES].rejected_by_rule["amount_out_of_range"] == 1
    for table in GOLD_TABLES:
        assert read_table(store, layout.gold(table.name)).num_rows == manifest.gold_row_counts[table.name]
    assert read_manifest(store, layout.manifest) == manifest
    assert pointer_run(store, engine_pointer(BUCKETS.gold, Engine.PANDAS)) == manifest.run_id
    assert pointer_run(store, global_pointer(BUCKETS.gold)) == manifest.run_id
    assert manifest.seconds is not None and manifest.seconds.total > 0
    assert manifest.peak_memory_bytes and manifest.peak_memory_bytes > 0
    assert [i.key for i in manifest.inputs] == ["clients.csv", "promotions/2026-11-26.csv", "purchases.csv"]


def test_bronze_keeps_raw_text_and_lineage(store: LocalStore) -> None:
    store.put(
        LANDING,
        "clients.csv",
        b"client_id,name,email,signup_date,country\n 1 , Ann ,A@B.CO,2020-01-01,france\n",
    )
    manifest = run(store).manifest
    bronze = read_table(store, RunLayout(BUCKETS, Engine.PANDAS, manifest.run_id).bronze(DatasetName.CLIENTS))
    assert bronze.to_pylist() == [
        {
            "client_id": " 1 ",
            "name": " Ann ",
            "email": "A@B.CO",
            "signup_date": "2020-01-01",
            "country": "france",
            "_source_key": "clients.csv",
            "_source_etag": store.head(LANDING, "clients.csv").etag,  # type: ignore[union-attr]
            "_row_number": 1,
        }
    ]


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_bad_file_fails_the_run_and_the_pointer_stays(store: LocalStore, kind: str) -> None:
    good = run(store).manifest
    body, reason = BAD_FILES[kind]
    store.put(LANDING, "clients/bad.csv", body)
    failed = run(store, T0 + timedelta(minutes=1)).manifest
    assert failed.status == "failed"
    assert failed.error is not None and "clients/bad.csv" in failed.error and reason in failed.error
    assert read_manifest(store, RunLayout(BUCKETS, Engine.PANDAS, failed.run_id).manifest) == failed
    assert pointer_run(store, engine_pointer(BUCKETS.gold, Engine.PANDAS)) == good.run_id
    assert pointer_run(store, global_pointer(BUCKETS.gold)) == good.run_id
    # the earlier run stays readable
    earlier = RunLayout(BUCKETS, Engine.PANDAS, good.run_id)
    assert read_table(store, earlier.gold("kpi_global")).num_rows == 1


def test_a_newer_run_moves_the_pointers_and_a_stale_one_does_not(store: LocalStore) -> None:
    first = run(store).manifest
    store.put(
        LANDING,
        "clients/extra.csv",
        csv_bytes(
            DatasetName.CLIENTS,
            [{**BASE_ROWS[DatasetName.CLIENTS], "client_id": "3", "email": "c@example.com"}],
        ),
    )
    second = run(store, T0 + timedelta(minutes=5)).manifest
    assert pointer_run(store, global_pointer(BUCKETS.gold)) == second.run_id
    store.delete_prefix(LANDING, "clients/extra.csv")
    stale = run(store, T0 + timedelta(minutes=1)).manifest  # an older writer finishing late
    assert stale.succeeded and stale.run_id != first.run_id
    assert pointer_run(store, engine_pointer(BUCKETS.gold, Engine.PANDAS)) == second.run_id
