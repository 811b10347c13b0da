"""A small landing area on a folder-backed store, shared by the engine unit tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.rule_cases import BASE_ROWS
from twinlake.datasets import DATASETS, DatasetName
from twinlake.layout import Buckets
from twinlake.store import LocalStore

LANDING = "landing"
BUCKETS = Buckets(bronze="bronze", silver="silver", gold="gold")


def csv_bytes(dataset: DatasetName, rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DATASETS[dataset].column_names)
    writer.writerows([[r[c] for c in DATASETS[dataset].column_names] for r in rows])
    return out.getvalue().encode()


def seeded_store(root: Path) -> LocalStore:
    """Two clients, two purchases (one with a bad amount) and one promotion, under three key styles."""
    store = LocalStore(root)
    c, p, m = DatasetName.CLIENTS, DatasetName.PURCHASES, DatasetName.PROMOTIONS
    client2 = {**BASE_ROWS[c], "client_id": "2", "email": "bob@example.com", "name": "Bob"}
    store.put(LANDING, "clients.csv", csv_bytes(c, [BASE_ROWS[c], client2]))
    purchase_bad = {**BASE_ROWS[p], "purchase_id": "11", "amount": "-1"}
    store.put(LANDING, "purchases.csv", csv_bytes(p, [BASE_ROWS[p], purchase_bad]))
    store.put(LANDING, "promotions/2026-11-26.csv", csv_bytes(m, [BASE_ROWS[m]]))
    return store
