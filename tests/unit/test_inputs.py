"""A run's input set (twinlake.inputs): what landing holds for each dataset, what is missing, its fingerprint."""

from __future__ import annotations

from pathlib import Path

from twinlake.datasets import DatasetName
from twinlake.inputs import input_fingerprint, list_landing, missing_datasets
from twinlake.store import LocalStore


def test_landing_lists_dataset_objects_only_sorted_by_key(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for key in ("purchases/b.csv", "clients.csv", "purchases/a.csv", "notes.txt", "customers.csv"):
        store.put("landing", key, b"x\n")
    found = list_landing(store, "landing")
    assert [(o.key, o.dataset) for o in found] == [
        ("clients.csv", DatasetName.CLIENTS),
        ("purchases/a.csv", DatasetName.PURCHASES),
        ("purchases/b.csv", DatasetName.PURCHASES),
    ]
    assert all(o.size == 2 and o.etag for o in found)
    assert missing_datasets(found) == [DatasetName.PROMOTIONS]
    store.put("landing", "promotions.csv", b"y\n")
    assert missing_datasets(list_landing(store, "landing")) == []


def test_fingerprint_changes_when_an_object_is_replaced(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for name in DatasetName:
        store.put("landing", f"{name}.csv", b"a\n")
    before = input_fingerprint(list_landing(store, "landing"))
    assert before == input_fingerprint(list_landing(store, "landing"))  # nothing changed
    store.put("landing", "clients.csv", b"b\n")
    assert input_fingerprint(list_landing(store, "landing")) != before
