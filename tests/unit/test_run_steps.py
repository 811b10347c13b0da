"""The run steps both engines share (`jobs.runs`): the ETag-pinned fetch, the input objects per dataset in run order,
and the Silver loop."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from jobs.runs import (
    RUN_ORDER,
    CleanIds,
    SilverOutput,
    check_inputs_unchanged,
    fetch_input,
    per_dataset,
    run_silver,
)
from tests.landing import LANDING, seeded_store
from twinlake.datasets import Dataset, DatasetName
from twinlake.inputs import list_landing
from twinlake.manifest import DatasetCounts
from twinlake.rules import RuleCode, rules_for


def test_clients_come_first_then_every_dataset_once() -> None:
    assert RUN_ORDER[0] == DatasetName.CLIENTS
    assert sorted(RUN_ORDER) == sorted(DatasetName)
    # every reference a dataset checks points to a dataset before it
    for position, name in enumerate(RUN_ORDER):
        for rule in rules_for(name):
            referenced = getattr(rule.check, "dataset", None)
            if referenced is not None:
                assert RUN_ORDER.index(referenced) < position, (name, rule.code)


def test_fetch_input_returns_the_pinned_body(tmp_path: Path) -> None:
    store = seeded_store(tmp_path)
    source = next(i for i in list_landing(store, LANDING) if i.key == "clients.csv")
    assert fetch_input(store, LANDING, source) == store.get(LANDING, "clients.csv").body


def test_fetch_input_fails_when_the_object_changed(tmp_path: Path) -> None:
    store = seeded_store(tmp_path)
    source = next(i for i in list_landing(store, LANDING) if i.key == "clients.csv")
    new_etag = store.put(LANDING, "clients.csv", b"client_id,name,email,signup_date,country\n")
    with pytest.raises(
        RuntimeError, match=rf"^clients\.csv changed during the run \(etag {source.etag} -> {new_etag}\)$"
    ):
        fetch_input(store, LANDING, source)


def test_check_inputs_unchanged_names_a_replaced_or_removed_object(tmp_path: Path) -> None:
    store = seeded_store(tmp_path)
    inputs = list_landing(store, LANDING)
    check_inputs_unchanged(store, LANDING, inputs)  # nothing changed: no error
    store.delete(LANDING, "purchases.csv")
    with pytest.raises(RuntimeError, match=r"^purchases\.csv changed during the run \(etag [0-9a-f]+ -> None\)$"):
        check_inputs_unchanged(store, LANDING, inputs)


def test_per_dataset_groups_items_in_run_order(tmp_path: Path) -> None:
    inputs = list_landing(seeded_store(tmp_path), LANDING)  # sorted by key: clients, promotions, purchases
    grouped = [(dataset.name, [i.key for i in items]) for dataset, items in per_dataset(inputs, lambda i: i.dataset)]
    assert grouped == [
        (DatasetName.CLIENTS, ["clients.csv"]),
        (DatasetName.PURCHASES, ["purchases.csv"]),
        (DatasetName.PROMOTIONS, ["promotions/2026-11-26.csv"]),
    ]


def test_per_dataset_fails_when_the_turn_of_a_dataset_without_input_comes(tmp_path: Path) -> None:
    inputs = [i for i in list_landing(seeded_store(tmp_path), LANDING) if i.dataset != DatasetName.PURCHASES]
    steps = per_dataset(inputs, lambda i: i.dataset)
    assert next(steps)[0].name == DatasetName.CLIENTS  # the datasets before it are yielded
    with pytest.raises(ValueError, match=r"^no input object for dataset purchases$"):
        next(steps)


def _counts(rows_in: int, rejected: int) -> DatasetCounts:
    by_rule = {RuleCode.DUPLICATE.value: rejected} if rejected else {}
    return DatasetCounts(
        rows_in=rows_in, rows_clean=rows_in - rejected, rows_rejected=rejected, rejected_by_rule=by_rule
    )


def test_run_silver_runs_datasets_in_order_with_the_clean_ids_before_them(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[tuple[DatasetName, dict[tuple[DatasetName, str], str]]] = []

    def step(dataset: Dataset, clean_ids: CleanIds[str]) -> SilverOutput[str, str]:
        seen.append((dataset.name, dict(clean_ids)))
        return SilverOutput(f"clean {dataset.name}", _counts(3, 1), f"ids {dataset.name}")

    with caplog.at_level(logging.INFO, logger="jobs.runs"):
        outputs = run_silver(step)
    clients = {(DatasetName.CLIENTS, "client_id"): "ids clients"}
    assert seen == [
        (DatasetName.CLIENTS, {}),
        (DatasetName.PURCHASES, clients),
        (DatasetName.PROMOTIONS, {**clients, (DatasetName.PURCHASES, "purchase_id"): "ids purchases"}),
    ]
    assert list(outputs) == list(RUN_ORDER)
    assert outputs[DatasetName.PROMOTIONS].clean == "clean promotions"
    assert [r.getMessage() for r in caplog.records if r.name == "jobs.runs"] == [
        f"silver {name}: 3 in, 2 clean, 1 rejected" for name in RUN_ORDER
    ]


def test_run_silver_stops_at_the_first_failing_dataset() -> None:
    def step(dataset: Dataset, clean_ids: CleanIds[int]) -> SilverOutput[int, int]:
        if dataset.name == DatasetName.PURCHASES:
            raise RuntimeError("boom")
        return SilverOutput(0, _counts(0, 0), 0)

    with pytest.raises(RuntimeError, match="boom"):
        run_silver(step)
