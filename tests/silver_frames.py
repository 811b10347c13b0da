"""Hand-made Silver frames (pyarrow-backed, with lineage) and data-quality counts, for both engines' Gold tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa

from twinlake.datasets import DatasetName
from twinlake.gold import ClientExists, IntegrityCheck, ProductExists
from twinlake.manifest import DatasetCounts

D12, D5 = pa.decimal128(12, 2), pa.decimal128(5, 2)
STR, I64, DATE = pa.string(), pa.int64(), pa.date32()

CLIENT_TYPES = {"client_id": I64, "name": STR, "email": STR, "signup_date": DATE, "country": STR}
PURCHASE_TYPES = {"purchase_id": I64, "client_id": I64, "purchase_date": DATE, "amount": D12, "product": STR}
PROMOTION_TYPES = {"promo_id": I64, "client_id": I64, "promo_name": STR, "promo_value": D5}
LINEAGE_TYPES = {"_source_key": STR, "_source_etag": STR, "_row_number": I64}


def frame(types: Mapping[str, pa.DataType], rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """A Silver-like frame: pyarrow-backed columns, lineage columns, and a non-default index."""
    data: dict[str, pd.Series[Any]] = {}
    index = pd.Index([10 * i + 7 for i in range(len(rows))])
    for i, (name, kind) in enumerate(types.items()):
        data[name] = pd.Series(pa.array([r[i] for r in rows], kind), dtype=pd.ArrowDtype(kind), index=index)
    lineage: dict[str, list[Any]] = {
        "_source_key": ["landing/x.csv"] * len(rows),
        "_source_etag": ["e"] * len(rows),
    }
    lineage["_row_number"] = list(range(1, len(rows) + 1))
    for name, kind in LINEAGE_TYPES.items():
        data[name] = pd.Series(pa.array(lineage[name], kind), dtype=pd.ArrowDtype(kind), index=index)
    return pd.DataFrame(data)


def clients(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    return frame(CLIENT_TYPES, rows)


def purchases(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    return frame(PURCHASE_TYPES, rows)


def promotions(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    return frame(PROMOTION_TYPES, rows)


def quality_dicts(
    clean: Mapping[str, int] | None = None, by_rule: Mapping[str, Mapping[str, int]] | None = None
) -> dict[str, dict[str, Any]]:
    """DQ counts as plain data: rows_rejected is the largest count in `by_rule` (0 if none); rows_in = clean +
    rejected."""
    out: dict[str, dict[str, Any]] = {}
    for ds in ("clients", "purchases", "promotions"):
        rules = dict((by_rule or {}).get(ds, {}))
        rejected = max(rules.values(), default=0)
        n_clean = (clean or {}).get(ds, 0)
        out[ds] = {
            "rows_in": n_clean + rejected,
            "rows_clean": n_clean,
            "rows_rejected": rejected,
            "rejected_by_rule": rules,
        }
    return out


def typed_quality(counts: Mapping[str, Mapping[str, Any]]) -> dict[DatasetName, DatasetCounts]:
    """Plain DQ counts as a run hands them to Gold (validated: inconsistent counts raise a ValueError)."""
    return {DatasetName(ds): DatasetCounts.model_validate(c) for ds, c in counts.items()}


def quality(
    clean: Mapping[str, int] | None = None, by_rule: Mapping[str, Mapping[str, int]] | None = None
) -> dict[DatasetName, DatasetCounts]:
    """DQ counts of every dataset, as a run hands them to Gold (see `quality_dicts`)."""
    return typed_quality(quality_dicts(clean, by_rule))


# Four clients, the input unsorted; Dan has no purchase and no promotion.
CLIENT_ROWS = [
    (3, "Carol", "carol@example.com", date(2022, 3, 10), "France"),
    (1, "Alice", "alice@example.com", date(2020, 1, 15), "France"),
    (4, "Dan", "dan@example.com", date(2023, 7, 4), "Spain"),  # no purchase, no promotion
    (2, "Bob", "bob@example.com", date(2021, 6, 1), "Germany"),
]


# Clean-looking purchases that break a Silver promise, by case: the rows, the check they break, how many rows
# break it and the smallest offending value (what every engine's SilverPromiseBroken reports).
_DAY = date(2025, 3, 5)
BROKEN_PROMISES: dict[str, tuple[list[tuple[Any, ...]], IntegrityCheck, int, int | str]] = {
    "unknown-client": (
        [(i + 1, client, _DAY, Decimal("1.00"), "Laptop") for i, client in enumerate((99, 98, 1))],
        ClientExists(DatasetName.PURCHASES),
        2,
        98,
    ),
    "unknown-product": (
        [(1, 1, _DAY, Decimal("1.00"), "Toaster"), (2, 1, _DAY, Decimal("1.00"), "Laptop")],
        ProductExists(DatasetName.PURCHASES),
        1,
        "Toaster",
    ),
}
