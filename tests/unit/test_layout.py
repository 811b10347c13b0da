"""The lake's layout (twinlake.layout): which landing keys are inputs, run ids, fingerprints, where a run writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from twinlake.datasets import DatasetName
from twinlake.layout import (
    Buckets,
    Engine,
    Location,
    RunLayout,
    dataset_for_key,
    engine_pointer,
    fingerprint,
    global_pointer,
    make_run_id,
)


@pytest.mark.parametrize(
    ("key", "dataset"),
    [
        ("clients.csv", DatasetName.CLIENTS),
        ("purchases/2026/part-1.csv", DatasetName.PURCHASES),
        ("promotions/a.CSV", DatasetName.PROMOTIONS),
        ("clients.csv.tmp", None),  # not a CSV
        ("clients/", None),  # a folder marker
        ("customers.csv", None),  # no such dataset
        ("archive/clients.csv", None),  # under another dataset's name only
        ("Clients.csv", None),  # dataset names are lower case
    ],
)
def test_dataset_for_key(key: str, dataset: DatasetName | None) -> None:
    assert dataset_for_key(key) == dataset


def test_run_id_is_utc_time_then_the_fingerprint_prefix() -> None:
    paris = timezone(timedelta(hours=1))
    assert make_run_id(datetime(2026, 11, 26, 16, 30, tzinfo=paris), "3f9a1cdeadbeef") == "20261126T153000Z-3f9a1c"
    earlier, later = (make_run_id(datetime(2026, 1, d, tzinfo=UTC), "ffffff") for d in (9, 10))
    assert earlier < later  # sortable by time


def test_fingerprint_ignores_order_and_etag_quotes_but_not_content() -> None:
    pairs = [("clients.csv", '"abc"'), ("purchases.csv", "def")]
    assert fingerprint(pairs) == fingerprint(reversed(pairs))
    assert fingerprint(pairs) == fingerprint([("clients.csv", "abc"), ("purchases.csv", "def")])
    assert fingerprint(pairs) != fingerprint([("clients.csv", "abd"), ("purchases.csv", "def")])
    assert fingerprint(pairs) != fingerprint([("clients2.csv", "abc"), ("purchases.csv", "def")])


def test_a_run_writes_under_its_engine_and_run_id_in_each_layer() -> None:
    run = RunLayout(Buckets(bronze="b", silver="s", gold="g"), Engine.SPARK, "20261126T153000Z-3f9a1c")
    prefix = "spark/20261126T153000Z-3f9a1c"
    assert run.bronze(DatasetName.CLIENTS) == Location("b", f"{prefix}/clients/")
    assert run.silver(DatasetName.PURCHASES) == Location("s", f"{prefix}/purchases/")
    assert run.silver_rejected(DatasetName.PURCHASES) == Location("s", f"{prefix}/purchases_rejected/")
    assert run.gold("kpi_by_country") == Location("g", f"{prefix}/kpi_by_country/")
    assert run.gold_prefix == Location("g", f"{prefix}/")
    assert run.manifest == Location("g", f"{prefix}/_manifest.json")
    assert run.manifest.uri("s3a") == f"s3a://g/{prefix}/_manifest.json"


def test_pointers() -> None:
    assert engine_pointer("gold", Engine.PANDAS) == Location("gold", "pandas/latest_run.json")
    assert global_pointer("gold").uri() == "s3://gold/latest_run.json"
