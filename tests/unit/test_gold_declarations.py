"""Gold declared once (`twinlake.gold.GOLD_DECLARATIONS`): every table has exactly one declaration, each measure
and calendar key means what it says through the Pandas compiler, and a broken Silver promise raises the same
`SilverPromiseBroken` (type and message) in Pandas and in the DuckDB reference (Spark: tests/spark)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from benchmarks.duckdb_reference import check_promises
from jobs.pandas_engine.gold import build_gold
from tests.silver_frames import BROKEN_PROMISES, CLIENT_ROWS, clients, promotions, purchases, quality
from twinlake.datasets import DATASETS, DatasetName
from twinlake.gold import (
    FACTS,
    GOLD_DECLARATIONS,
    GOLD_DECLARATIONS_BY_NAME,
    GOLD_TABLES,
    INTEGRITY_CHECKS,
    Aggregate,
    ClientExists,
    Fact,
    IntegrityCheck,
    ProductExists,
    SilverPromiseBroken,
    output_names,
)

# ---- every table declared once --------------------------------------------------------------------------------


def test_every_gold_table_has_one_declaration_and_every_declaration_a_table() -> None:
    assert [d.table for d in GOLD_DECLARATIONS] == list(GOLD_TABLES)
    assert set(GOLD_DECLARATIONS_BY_NAME) == {t.name for t in GOLD_TABLES}
    assert len(GOLD_DECLARATIONS_BY_NAME) == len(GOLD_DECLARATIONS)


@pytest.mark.parametrize("declaration", [d for d in GOLD_DECLARATIONS if isinstance(d, Aggregate)], ids=str)
def test_an_aggregate_produces_exactly_its_tables_columns(declaration: Aggregate) -> None:
    names = output_names(declaration)
    assert len(set(names)) == len(names)
    assert set(names) == set(declaration.table.column_names)
    assert declaration.fact in FACTS


@pytest.mark.parametrize("fact", FACTS, ids=lambda f: f.table.name)
def test_a_fact_is_its_silver_columns_and_what_its_checks_add(fact: Fact) -> None:
    silver = set(DATASETS[fact.dataset].column_names)
    added = {check.adds for check in fact.checks}
    assert set(fact.table.column_names) == silver | added
    assert not silver & added
    assert all(check.dataset == fact.dataset and check.column in silver for check in fact.checks)
    assert fact.money in silver


def test_every_fact_checks_its_client_and_purchases_their_product() -> None:
    assert (
        ClientExists(DatasetName.PURCHASES),
        ProductExists(DatasetName.PURCHASES),
        ClientExists(DatasetName.PROMOTIONS),
    ) == INTEGRITY_CHECKS


# ---- each measure and calendar key, on a few hand-made rows -----------------------------------------------------


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in table.to_pylist()]


def _gold(purchase_rows: list[tuple[Any, ...]], promotion_rows: list[tuple[Any, ...]] = []) -> dict[str, pa.Table]:  # noqa: B006
    counts = {"clients": len(CLIENT_ROWS), "purchases": len(purchase_rows), "promotions": len(promotion_rows)}
    return build_gold(clients(CLIENT_ROWS), purchases(purchase_rows), promotions(promotion_rows), quality(counts))


DAY = date(2025, 3, 5)


def test_sum_of_cents_count_and_distinct_clients() -> None:
    # client 1 (France) buys twice, client 2 (Germany) once: 0.10 + 0.20 + 0.30 = 0.60 over 3 orders, 2 customers
    gold = _gold([(1, 1, DAY, D("0.10"), "Laptop"), (2, 1, DAY, D("0.20"), "Laptop"), (3, 2, DAY, D("0.30"), "Laptop")])
    assert _rows(gold["kpi_global"]) == [(D("0.60"), 3, 2, D("0.20"))]
    assert _rows(gold["sales_by_day"]) == [(DAY, D("0.60"), 3, 2)]
    assert _rows(gold["kpi_by_country"]) == [
        ("France", D("0.30"), 2, 1, D("0.15")),
        ("Germany", D("0.30"), 1, 1, D("0.30")),
    ]


@pytest.mark.parametrize(
    ("amounts", "average"),
    [
        (("0.01", "0.02"), "0.02"),  # 1.5 cents -> 2 (half up)
        (("0.02", "0.03"), "0.03"),  # 2.5 cents -> 3 (half up, not to even)
        (("1000.00", "1000.01"), "1000.01"),  # 100000.5 cents -> 100001
        (("0.01", "0.01", "0.02"), "0.01"),  # 1.33 cents -> 1
        (("0.01", "0.02", "0.02"), "0.02"),  # 1.67 cents -> 2
    ],
)
def test_half_up_average_at_the_half_cent(amounts: tuple[str, ...], average: str) -> None:
    gold = _gold([(i + 1, 1, DAY, D(a), "Tablet") for i, a in enumerate(amounts)])
    total = sum(D(a) for a in amounts)
    assert _rows(gold["kpi_by_product"]) == [(3, "Tablet", total, len(amounts), 1, D(average))]
    assert _rows(gold["kpi_global"])[0][3] == D(average)


def test_promotion_average_and_distinct_clients() -> None:
    gold = _gold([], [(1, 1, "VIP25", D("10.00")), (2, 1, "VIP25", D("10.01")), (3, 3, "FLASH5", D("5.00"))])
    # (1000 + 1001 + 500) / 3 = 833.67 hundredths -> 8.34; VIP25: 2001 / 2 = 1000.5 -> 10.01
    assert _rows(gold["promo_kpi_global"]) == [(3, 2, D("8.34"))]
    assert _rows(gold["promo_kpi_by_name"]) == [("FLASH5", 1, 1, D("5.00")), ("VIP25", 2, 1, D("10.01"))]


def test_iso_weeks_and_months_at_the_year_end() -> None:
    days = [date(2020, 12, 31), date(2021, 1, 3), date(2021, 1, 4), date(2024, 12, 30), date(2026, 12, 31)]
    gold = _gold([(i + 1, 1, d, D("1.00"), "Camera") for i, d in enumerate(days)])
    weeks = [(r[0], r[1]) for r in _rows(gold["sales_by_week"])]
    # 2020-12-31 and 2021-01-03 are both in 2020-W53; 2024-12-30 is 2025-W01; 2026-12-31 is 2026-W53
    assert weeks == [(2020, 53), (2021, 1), (2025, 1), (2026, 53)]
    assert weeks == sorted({d.isocalendar()[:2] for d in days})
    assert [r[2] for r in _rows(gold["sales_by_week"])] == [D("2.00"), D("1.00"), D("1.00"), D("1.00")]
    assert [r[0] for r in _rows(gold["sales_by_month"])] == ["2020-12", "2021-01", "2024-12", "2026-12"]


# ---- a broken Silver promise: one error, one message --------------------------------------------------------------

BROKEN = [pytest.param(*case, id=name) for name, case in BROKEN_PROMISES.items()]


def expected_error(check: IntegrityCheck, rows: int, smallest: int | str) -> str:
    return str(SilverPromiseBroken(check, rows, smallest))


def test_the_message_names_the_dataset_the_promise_and_the_smallest_value() -> None:
    message = expected_error(ClientExists(DatasetName.PURCHASES), 2, 98)
    assert message == (
        "silver purchases: 2 row(s) reference a client that is not clean, Silver promises none does "
        "(smallest client_id: 98)"
    )
    assert "'Toaster'" in expected_error(ProductExists(DatasetName.PURCHASES), 1, "Toaster")


@pytest.mark.parametrize(("purchase_rows", "check", "rows", "smallest"), BROKEN)
def test_pandas_raises_the_broken_promise(
    purchase_rows: list[tuple[Any, ...]], check: IntegrityCheck, rows: int, smallest: int | str
) -> None:
    with pytest.raises(SilverPromiseBroken) as raised:
        build_gold(clients(CLIENT_ROWS), purchases(purchase_rows), promotions([]), quality())
    assert type(raised.value) is SilverPromiseBroken
    assert str(raised.value) == expected_error(check, rows, smallest)
    assert raised.value.check == check


def test_pandas_checks_promotions_too() -> None:
    with pytest.raises(SilverPromiseBroken) as raised:
        build_gold(clients(CLIENT_ROWS), purchases([]), promotions([(1, 7, "VIP25", D("1.00"))]), quality())
    assert str(raised.value) == expected_error(ClientExists(DatasetName.PROMOTIONS), 1, 7)


def _clean_tables(con: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame]) -> None:
    for name, frame in frames.items():
        con.register(f"clean_{name}", pa.Table.from_pandas(frame, preserve_index=False))


@pytest.mark.parametrize(("purchase_rows", "check", "rows", "smallest"), BROKEN)
def test_duckdb_raises_the_same_broken_promise(
    purchase_rows: list[tuple[Any, ...]], check: IntegrityCheck, rows: int, smallest: int | str
) -> None:
    with duckdb.connect() as con:
        _clean_tables(
            con, {"clients": clients(CLIENT_ROWS), "purchases": purchases(purchase_rows), "promotions": promotions([])}
        )
        with pytest.raises(SilverPromiseBroken) as raised:
            check_promises(con)
    assert type(raised.value) is SilverPromiseBroken
    assert str(raised.value) == expected_error(check, rows, smallest)


def test_duckdb_passes_kept_promises() -> None:
    with duckdb.connect() as con:
        _clean_tables(
            con,
            {
                "clients": clients(CLIENT_ROWS),
                "purchases": purchases([(1, 1, DAY, D("1.00"), "Laptop")]),
                "promotions": promotions([(1, 2, "VIP25", D("1.00"))]),
            },
        )
        check_promises(con)
