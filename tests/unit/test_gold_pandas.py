"""Gold with pandas: definitions, schemas, and every aggregate checked against values computed by hand.

The fixture is small on purpose: each expected value below is worked out in a comment next to it, never by
calling the code under test. One property test compares the aggregates with a plain-Python Decimal oracle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.pandas_engine.arrow_schema import arrow_type, gold_schema
from jobs.pandas_engine.gold import average_cents, build_gold, from_cents, to_cents
from tests.silver_frames import (
    CLIENT_ROWS,
    D5,
    D12,
    DATE,
    I64,
    STR,
    clients,
    promotions,
    purchases,
    quality,
    quality_dicts,
    typed_quality,
)
from twinlake.gold import GOLD_TABLES, GOLD_TABLES_BY_NAME, data_quality_rows

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

D = Decimal
D18, I32 = pa.decimal128(18, 2), pa.int32()


def rows(table: pa.Table, *columns: str) -> list[tuple[Any, ...]]:
    """The table's rows (in table order) restricted to `columns` (all when none given)."""
    names = columns or tuple(table.column_names)
    return [tuple(r[c] for c in names) for r in table.to_pylist()]


# ---- the main fixture: four clients (input unsorted), five purchases, five promotions ----------------------

PURCHASE_ROWS = [
    (105, 1, date(2024, 12, 30), D("10.00"), "Laptop"),  # Monday: ISO 2025-W01, calendar 2024-12
    (101, 2, date(2025, 1, 3), D("10.01"), "Laptop"),  # Friday, ISO 2025-W01
    (103, 3, date(2024, 12, 30), D("1.00"), "Tablet"),
    (104, 1, date(2025, 1, 5), D("1.00"), "Tablet"),  # Sunday, still ISO 2025-W01
    (102, 3, date(2025, 1, 6), D("1.01"), "Tablet"),  # Monday, ISO 2025-W02
]
PROMOTION_ROWS = [
    (7, 1, "WELCOME10", D("10.00")),
    (3, 3, "WELCOME10", D("10.01")),
    (5, 1, "VIP25", D("25.00")),
    (11, 1, "WELCOME10", D("5.00")),
    (9, 2, "FLASH5", D("5.00")),
]
QUALITY = quality(
    {"clients": 4, "purchases": 5, "promotions": 5},
    {
        "clients": {"invalid_email": 1, "duplicate_id": 2},
        "purchases": {"unknown_client": 3, "amount_out_of_range": 1},
    },
)


@pytest.fixture(scope="module")
def gold() -> dict[str, pa.Table]:
    return build_gold(clients(CLIENT_ROWS), purchases(PURCHASE_ROWS), promotions(PROMOTION_ROWS), QUALITY)


def build_sales(purchase_rows: Sequence[tuple[Any, ...]]) -> dict[str, pa.Table]:
    return build_gold(clients(CLIENT_ROWS), purchases(purchase_rows), promotions([]), quality())


# ---- definitions -------------------------------------------------------------------------------------------


def test_every_gold_type_is_in_the_closed_set_and_every_table_has_a_sort_key() -> None:
    closed = {"int32", "int64", "string", "date", "decimal(12,2)", "decimal(5,2)", "decimal(18,2)"}
    for table in GOLD_TABLES:
        assert table.sort_key, table.name
        assert set(table.sort_key) <= set(table.column_names), table.name
        for column in table.columns:
            assert column.type in closed, (table.name, column.name)
            arrow_type(column.type)  # every type maps to pyarrow
    assert len({t.name for t in GOLD_TABLES}) == len(GOLD_TABLES) == 15


def test_unknown_type_name_is_refused() -> None:
    with pytest.raises(KeyError):
        arrow_type("float64")


EXPECTED_SCHEMAS: dict[str, list[tuple[str, pa.DataType]]] = {
    "dim_client": [
        ("client_id", I64),
        ("name", STR),
        ("email", STR),
        ("signup_date", DATE),
        ("country", STR),
    ],
    "dim_product": [("product_id", I32), ("product", STR)],
    "dim_date": [
        ("date", DATE),
        ("year", I32),
        ("quarter", I32),
        ("month", I32),
        ("month_name", STR),
        ("iso_year", I32),
        ("iso_week", I32),
        ("day", I32),
        ("day_of_week", I32),
        ("day_name", STR),
    ],
    "fact_purchase": [
        ("purchase_id", I64),
        ("client_id", I64),
        ("product_id", I32),
        ("product", STR),
        ("purchase_date", DATE),
        ("amount", D12),
        ("country", STR),
    ],
    "fact_promotion": [
        ("promo_id", I64),
        ("client_id", I64),
        ("promo_name", STR),
        ("promo_value", D5),
        ("country", STR),
    ],
    "kpi_global": [
        ("total_revenue", D18),
        ("total_orders", I64),
        ("unique_customers", I64),
        ("avg_order_value", D18),
    ],
    "kpi_by_country": [
        ("country", STR),
        ("revenue", D18),
        ("orders", I64),
        ("customers", I64),
        ("avg_order_value", D18),
    ],
    "kpi_by_product": [
        ("product_id", I32),
        ("product", STR),
        ("revenue", D18),
        ("orders", I64),
        ("customers", I64),
        ("avg_order_value", D18),
    ],
    "promo_kpi_global": [
        ("total_promotions", I64),
        ("clients_with_promotion", I64),
        ("avg_promo_value", D18),
    ],
    "promo_kpi_by_name": [
        ("promo_name", STR),
        ("promotions", I64),
        ("clients", I64),
        ("avg_promo_value", D18),
    ],
    "promo_kpi_by_country": [
        ("country", STR),
        ("promotions", I64),
        ("clients", I64),
        ("avg_promo_value", D18),
    ],
    "sales_by_day": [("date", DATE), ("revenue", D18), ("orders", I64), ("customers", I64)],
    "sales_by_week": [
        ("iso_year", I32),
        ("iso_week", I32),
        ("revenue", D18),
        ("orders", I64),
        ("customers", I64),
    ],
    "sales_by_month": [("month", STR), ("revenue", D18), ("orders", I64), ("customers", I64)],
    "data_quality": [
        ("dataset", STR),
        ("rule", STR),
        ("rows_failed", I64),
        ("rows_in", I64),
        ("rows_clean", I64),
        ("rows_rejected", I64),
    ],
}


def test_declared_schemas_are_the_expected_ones() -> None:
    assert [t.name for t in GOLD_TABLES] == list(EXPECTED_SCHEMAS)
    for table in GOLD_TABLES:
        assert gold_schema(table) == pa.schema(EXPECTED_SCHEMAS[table.name]), table.name


def _check_output_shape(gold: Mapping[str, pa.Table]) -> None:
    assert list(gold) == list(EXPECTED_SCHEMAS)
    for name, table in gold.items():
        assert table.schema == pa.schema(EXPECTED_SCHEMAS[name]), name
        assert table.schema == gold_schema(GOLD_TABLES_BY_NAME[name]), name
        keys = rows(table, *GOLD_TABLES_BY_NAME[name].sort_key)
        assert keys == sorted(keys), f"{name} is not sorted by its key"
        assert len(set(keys)) == len(keys), f"{name} repeats a key"


def test_output_tables_have_exactly_the_declared_schemas_and_are_sorted(gold: dict[str, pa.Table]) -> None:
    _check_output_shape(gold)


# ---- dimensions and facts ----------------------------------------------------------------------------------


def test_dim_client_is_every_clean_client_sorted(gold: dict[str, pa.Table]) -> None:
    assert rows(gold["dim_client"]) == [
        (1, "Alice", "alice@example.com", date(2020, 1, 15), "France"),
        (2, "Bob", "bob@example.com", date(2021, 6, 1), "Germany"),
        (3, "Carol", "carol@example.com", date(2022, 3, 10), "France"),
        (4, "Dan", "dan@example.com", date(2023, 7, 4), "Spain"),
    ]


def test_dim_product_lists_every_product_with_its_stable_position(gold: dict[str, pa.Table]) -> None:
    # Only Laptop and Tablet are sold; all eight are listed, ids = position in datasets.PRODUCTS.
    assert rows(gold["dim_product"]) == [
        (1, "Laptop"),
        (2, "Smartphone"),
        (3, "Tablet"),
        (4, "Headphones"),
        (5, "Smartwatch"),
        (6, "Camera"),
        (7, "Printer"),
        (8, "Monitor"),
    ]


def test_fact_purchase_carries_product_id_and_the_clients_country(gold: dict[str, pa.Table]) -> None:
    assert rows(gold["fact_purchase"]) == [
        (101, 2, 1, "Laptop", date(2025, 1, 3), D("10.01"), "Germany"),
        (102, 3, 3, "Tablet", date(2025, 1, 6), D("1.01"), "France"),
        (103, 3, 3, "Tablet", date(2024, 12, 30), D("1.00"), "France"),
        (104, 1, 3, "Tablet", date(2025, 1, 5), D("1.00"), "France"),
        (105, 1, 1, "Laptop", date(2024, 12, 30), D("10.00"), "France"),
    ]


def test_fact_promotion_carries_the_clients_country(gold: dict[str, pa.Table]) -> None:
    assert rows(gold["fact_promotion"]) == [
        (3, 3, "WELCOME10", D("10.01"), "France"),
        (5, 1, "VIP25", D("25.00"), "France"),
        (7, 1, "WELCOME10", D("10.00"), "France"),
        (9, 2, "FLASH5", D("5.00"), "Germany"),
        (11, 1, "WELCOME10", D("5.00"), "France"),
    ]


def test_dim_date_spans_first_to_last_purchase_with_iso_weeks(gold: dict[str, pa.Table]) -> None:
    # 2024-12-30 .. 2025-01-06 is 8 days. 2024-12-30 is a Monday in ISO week 2025-W01; 2025-01-05 (Sunday) is
    # the last day of that week; 2025-01-06 starts 2025-W02.
    assert rows(gold["dim_date"]) == [
        (date(2024, 12, 30), 2024, 4, 12, "December", 2025, 1, 30, 1, "Monday"),
        (date(2024, 12, 31), 2024, 4, 12, "December", 2025, 1, 31, 2, "Tuesday"),
        (date(2025, 1, 1), 2025, 1, 1, "January", 2025, 1, 1, 3, "Wednesday"),
        (date(2025, 1, 2), 2025, 1, 1, "January", 2025, 1, 2, 4, "Thursday"),
        (date(2025, 1, 3), 2025, 1, 1, "January", 2025, 1, 3, 5, "Friday"),
        (date(2025, 1, 4), 2025, 1, 1, "January", 2025, 1, 4, 6, "Saturday"),
        (date(2025, 1, 5), 2025, 1, 1, "January", 2025, 1, 5, 7, "Sunday"),
        (date(2025, 1, 6), 2025, 1, 1, "January", 2025, 2, 6, 1, "Monday"),
    ]


def test_dim_date_fills_the_gaps_between_purchase_days() -> None:
    gold = build_sales([(1, 1, date(2025, 3, 5), D("2.00"), "Camera"), (2, 2, date(2025, 3, 1), D("3.00"), "Camera")])
    assert rows(gold["dim_date"], "date", "quarter", "day", "day_name") == [
        (date(2025, 3, 1), 1, 1, "Saturday"),
        (date(2025, 3, 2), 1, 2, "Sunday"),
        (date(2025, 3, 3), 1, 3, "Monday"),
        (date(2025, 3, 4), 1, 4, "Tuesday"),
        (date(2025, 3, 5), 1, 5, "Wednesday"),
    ]
    # sales_by_day keeps only the two days with sales.
    assert rows(gold["sales_by_day"]) == [
        (date(2025, 3, 1), D("3.00"), 1, 1),
        (date(2025, 3, 5), D("2.00"), 1, 1),
    ]


def test_iso_week_53_belongs_to_the_previous_iso_year() -> None:
    # 2020-12-31 (Thursday) and 2021-01-03 (Sunday) are both ISO 2020-W53; 2021-01-04 (Monday) is 2021-W01.
    gold = build_sales(
        [
            (1, 1, date(2020, 12, 31), D("1.00"), "Printer"),
            (2, 2, date(2021, 1, 3), D("2.00"), "Printer"),
            (3, 1, date(2021, 1, 4), D("4.00"), "Printer"),
        ]
    )
    assert rows(gold["sales_by_week"]) == [(2020, 53, D("3.00"), 2, 2), (2021, 1, D("4.00"), 1, 1)]
    assert rows(gold["sales_by_month"]) == [("2020-12", D("1.00"), 1, 1), ("2021-01", D("6.00"), 2, 2)]
    jan3 = [r for r in gold["dim_date"].to_pylist() if r["date"] == date(2021, 1, 3)]
    assert rows(pa.Table.from_pylist(jan3), "year", "month", "iso_year", "iso_week", "day_of_week") == [
        (2021, 1, 2020, 53, 7)
    ]


# ---- sales KPIs --------------------------------------------------------------------------------------------


def test_kpi_global(gold: dict[str, pa.Table]) -> None:
    # 10.00 + 10.01 + 1.00 + 1.00 + 1.01 = 23.02 over 5 orders by clients {1, 2, 3}; 23.02 / 5 = 4.604 -> 4.60
    assert rows(gold["kpi_global"]) == [(D("23.02"), 5, 3, D("4.60"))]


def test_kpi_by_country_only_countries_with_sales(gold: dict[str, pa.Table]) -> None:
    # France (clients 1, 3): 10.00 + 1.00 + 1.00 + 1.01 = 13.01 / 4 = 3.2525 -> 3.25; Germany: 10.01 once.
    # Spain (client 4) bought nothing: no row.
    assert rows(gold["kpi_by_country"]) == [
        ("France", D("13.01"), 4, 2, D("3.25")),
        ("Germany", D("10.01"), 1, 1, D("10.01")),
    ]


def test_kpi_by_product_rounds_half_up(gold: dict[str, pa.Table]) -> None:
    # Laptop: (10.00 + 10.01) / 2 = 10.005 -> 10.01 (half-up; half-even would give 10.00).
    # Tablet: (1.00 + 1.00 + 1.01) / 3 = 1.00333... -> 1.00 (rounds down). Unsold products have no row.
    assert rows(gold["kpi_by_product"]) == [
        (1, "Laptop", D("20.01"), 2, 2, D("10.01")),
        (3, "Tablet", D("3.01"), 3, 2, D("1.00")),
    ]


def test_sales_by_day_week_and_month(gold: dict[str, pa.Table]) -> None:
    assert rows(gold["sales_by_day"]) == [
        (date(2024, 12, 30), D("11.00"), 2, 2),  # 105 (client 1) + 103 (client 3)
        (date(2025, 1, 3), D("10.01"), 1, 1),
        (date(2025, 1, 5), D("1.00"), 1, 1),
        (date(2025, 1, 6), D("1.01"), 1, 1),
    ]
    # ISO 2025-W01 holds 2024-12-30 .. 2025-01-05: 10.00 + 1.00 + 10.01 + 1.00 = 22.01, clients {1, 2, 3}.
    assert rows(gold["sales_by_week"]) == [(2025, 1, D("22.01"), 4, 3), (2025, 2, D("1.01"), 1, 1)]
    # The same days split by calendar month: December has 105 and 103, January the other three.
    assert rows(gold["sales_by_month"]) == [("2024-12", D("11.00"), 2, 2), ("2025-01", D("12.02"), 3, 3)]


# ---- promotion KPIs ----------------------------------------------------------------------------------------


def test_promo_kpi_global(gold: dict[str, pa.Table]) -> None:
    # 10.00 + 10.01 + 25.00 + 5.00 + 5.00 = 55.01 over 5 promotions = 11.002 -> 11.00; clients {1, 2, 3}.
    assert rows(gold["promo_kpi_global"]) == [(5, 3, D("11.00"))]


def test_promo_kpi_by_name_groups_by_name_not_id(gold: dict[str, pa.Table]) -> None:
    # WELCOME10 is promo ids 3, 7 and 11 (clients 3, 1, 1): (10.01 + 10.00 + 5.00) / 3 = 8.3366... -> 8.34
    assert rows(gold["promo_kpi_by_name"]) == [
        ("FLASH5", 1, 1, D("5.00")),
        ("VIP25", 1, 1, D("25.00")),
        ("WELCOME10", 3, 2, D("8.34")),
    ]


def test_promo_kpi_by_country(gold: dict[str, pa.Table]) -> None:
    # France: ids 3, 5, 7, 11 (clients 3, 1): 10.01 + 25.00 + 10.00 + 5.00 = 50.01 / 4 = 12.5025 -> 12.50
    assert rows(gold["promo_kpi_by_country"]) == [("France", 4, 2, D("12.50")), ("Germany", 1, 1, D("5.00"))]


# ---- no purchases, no promotions ---------------------------------------------------------------------------


def test_no_purchases_and_no_promotions_give_zero_kpis_and_empty_tables() -> None:
    gold = build_gold(clients(CLIENT_ROWS), purchases([]), promotions([]), quality({"clients": 4}))
    _check_output_shape(gold)
    assert rows(gold["kpi_global"]) == [(D("0.00"), 0, 0, D("0.00"))]
    assert rows(gold["promo_kpi_global"]) == [(0, 0, D("0.00"))]
    assert gold["dim_client"].num_rows == 4
    assert gold["dim_product"].num_rows == 8
    for name in (
        "dim_date",
        "fact_purchase",
        "fact_promotion",
        "kpi_by_country",
        "kpi_by_product",
        "promo_kpi_by_name",
        "promo_kpi_by_country",
        "sales_by_day",
        "sales_by_week",
        "sales_by_month",
    ):
        assert gold[name].num_rows == 0, name


# ---- data quality ------------------------------------------------------------------------------------------


def test_data_quality_lists_every_rule_with_zeros(gold: dict[str, pa.Table]) -> None:
    table = rows(gold["data_quality"])
    # 12 client rules + 12 promotion rules + 15 purchase rules, datasets in name order.
    assert len(table) == 39
    assert [r[0] for r in table] == ["clients"] * 12 + ["promotions"] * 12 + ["purchases"] * 15
    # clients: 4 clean + 2 rejected = 6 in
    assert table[:12] == [
        ("clients", "duplicate", 0, 6, 4, 2),
        ("clients", "duplicate_id", 2, 6, 4, 2),
        ("clients", "future_signup_date", 0, 6, 4, 2),
        ("clients", "invalid_client_id", 0, 6, 4, 2),
        ("clients", "invalid_email", 1, 6, 4, 2),
        ("clients", "invalid_signup_date", 0, 6, 4, 2),
        ("clients", "missing_client_id", 0, 6, 4, 2),
        ("clients", "missing_country", 0, 6, 4, 2),
        ("clients", "missing_email", 0, 6, 4, 2),
        ("clients", "missing_name", 0, 6, 4, 2),
        ("clients", "missing_signup_date", 0, 6, 4, 2),
        ("clients", "unknown_country", 0, 6, 4, 2),
    ]
    assert all(r[2:] == (0, 5, 5, 0) for r in table[12:24])
    # purchases: 5 clean + 3 rejected = 8 in
    purchases_rows = {r[1]: r[2:] for r in table[24:]}
    assert purchases_rows["unknown_client"] == (3, 8, 5, 3)
    assert purchases_rows["amount_out_of_range"] == (1, 8, 5, 3)
    assert purchases_rows["missing_product"] == (0, 8, 5, 3)
    assert sum(r[2] for r in table[24:]) == 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda q: q.pop("promotions"), "no counts"),
        (lambda q: q["clients"].update(rows_in=7), "rows_in"),
        (lambda q: q["purchases"]["rejected_by_rule"].update(invalid_email=1), "not rule codes"),
        (lambda q: q["purchases"]["rejected_by_rule"].update(unknown_client=4), "rejected"),
        (lambda q: q["clients"].update(rows_clean=-1, rows_in=1), "greater than or equal to 0"),
    ],
)
def test_inconsistent_quality_counts_are_refused(change: Any, message: str) -> None:
    counts = quality_dicts({"clients": 4}, {"purchases": {"unknown_client": 3}})
    change(counts)
    with pytest.raises(ValueError, match=message):
        data_quality_rows(typed_quality(counts))


# ---- exact money -------------------------------------------------------------------------------------------


def test_cents_round_trip_exactly_at_the_limits() -> None:
    values = [D("0.01"), D("4999.99"), D("9999999999.99"), D("0.00")]
    assert to_cents(pa.array(values, D12)).tolist() == [1, 499999, 999999999999, 0]
    largest = 10**18 - 1  # 9999999999999999.99, the largest decimal(18,2)
    assert from_cents(np.array([1, 1001, largest], np.int64)).to_pylist() == [
        D("0.01"),
        D("10.01"),
        D("9999999999999999.99"),
    ]
    with pytest.raises(pa.ArrowInvalid):
        from_cents(np.array([10**18], np.int64))


def test_average_cents_rounds_half_up() -> None:
    sums = np.array([3, 5, 1, 2, 0, 2001, 7], np.int64)
    counts = np.array([2, 2, 3, 3, 0, 2, 0], np.int64)
    # 1.5 -> 2, 2.5 -> 3, 0.33 -> 0, 0.67 -> 1, no rows -> 0, 1000.5 -> 1001, no rows -> 0
    assert average_cents(sums, counts).tolist() == [2, 3, 0, 1, 0, 1001, 0]


# ---- Silver guarantees and inputs --------------------------------------------------------------------------


def test_inputs_are_not_modified_and_other_string_types_are_accepted() -> None:
    client_frame = clients(CLIENT_ROWS)
    client_frame["country"] = client_frame["country"].astype(pd.ArrowDtype(pa.large_string()))
    purchase_frame = purchases(PURCHASE_ROWS)
    before = (client_frame.copy(), purchase_frame.copy())
    gold = build_gold(client_frame, purchase_frame, promotions([]), quality())
    pd.testing.assert_frame_equal(client_frame, before[0])
    pd.testing.assert_frame_equal(purchase_frame, before[1])
    assert gold["dim_client"].schema.field("country").type == pa.string()
    assert rows(gold["kpi_global"]) == [(D("23.02"), 5, 3, D("4.60"))]


@pytest.mark.parametrize(
    ("purchase_rows", "message"),
    [
        ([(1, 99, date(2025, 1, 1), D("1.00"), "Laptop")], "not clean"),
        ([(1, 1, date(2025, 1, 1), D("1.00"), "Laptop")] * 2, "repeats an id"),
        ([(1, 1, date(2025, 1, 1), D("1.00"), "Toaster")], "PRODUCTS"),
        ([(1, 1, date(2025, 1, 1), None, "Laptop")], "nulls"),
    ],
)
def test_broken_silver_guarantees_are_refused(purchase_rows: list[tuple[Any, ...]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_gold(clients(CLIENT_ROWS), purchases(purchase_rows), promotions([]), quality())


# ---- property: aggregates equal a plain-Python Decimal oracle ----------------------------------------------


def _half_up(total: Decimal, n: int) -> Decimal:
    return (total / n).quantize(D("0.01"), rounding=ROUND_HALF_UP) if n else D("0.00")


def _oracle(purchase_rows: Iterable[tuple[int, int, date, Decimal, str]], key: Any) -> list[tuple[Any, ...]]:
    groups: dict[Any, list[tuple[int, Decimal]]] = {}
    for _, client_id, day, amount, product in purchase_rows:
        groups.setdefault(key(client_id, day, product), []).append((client_id, amount))
    return [(*k, sum(a for _, a in g), len(g), len({c for c, _ in g})) for k, g in sorted(groups.items())]


# One anchor day per example (any year 1000-2999, often just before a new year), purchases within 400 days of
# it: far-away years and ISO year boundaries are covered while dim_date stays small enough to check in full.
_ANCHOR = st.dates(date(1000, 1, 1), date(2998, 12, 31)) | st.integers(1000, 2998).map(lambda y: date(y, 12, 25))


@st.composite
def _purchases(draw: st.DrawFn) -> list[tuple[int, int, date, Decimal, str]]:
    anchor = draw(_ANCHOR)
    drawn = draw(
        st.lists(
            st.tuples(
                st.integers(1, 4),
                st.integers(0, 400).map(lambda k: anchor + timedelta(days=k)),
                st.integers(1, 500_000).map(lambda c: Decimal(c) / 100),
                st.sampled_from(["Laptop", "Tablet", "Monitor"]),
            ),
            max_size=25,
        )
    )
    return [(i + 1, c, d, a, p) for i, (c, d, a, p) in enumerate(drawn)]


@settings(max_examples=60, deadline=None)
@given(_purchases())
def test_aggregates_match_a_decimal_oracle(purchase_rows: list[tuple[int, int, date, Decimal, str]]) -> None:
    gold = build_sales(purchase_rows)
    country = {r[0]: r[4] for r in CLIENT_ROWS}
    product_id = {"Laptop": 1, "Tablet": 3, "Monitor": 8}

    assert rows(gold["sales_by_week"]) == _oracle(purchase_rows, lambda c, d, p: d.isocalendar()[:2])
    assert rows(gold["sales_by_month"]) == _oracle(purchase_rows, lambda c, d, p: (f"{d.year:04d}-{d.month:02d}",))
    assert rows(gold["sales_by_day"]) == _oracle(purchase_rows, lambda c, d, p: (d,))
    by_country = _oracle(purchase_rows, lambda c, d, p: (country[c],))
    assert rows(gold["kpi_by_country"]) == [(*r, _half_up(r[1], r[2])) for r in by_country]
    by_product = _oracle(purchase_rows, lambda c, d, p: (product_id[p], p))
    assert rows(gold["kpi_by_product"]) == [(*r, _half_up(r[2], r[3])) for r in by_product]
    total = sum((r[3] for r in purchase_rows), D("0"))
    customers = len({r[1] for r in purchase_rows})
    n = len(purchase_rows)
    assert rows(gold["kpi_global"]) == [(total.quantize(D("0.01")), n, customers, _half_up(total, n))]
    days: list[date] = []
    if purchase_rows:
        first = min(r[2] for r in purchase_rows)
        days = [first + timedelta(days=i) for i in range((max(r[2] for r in purchase_rows) - first).days + 1)]
    expected = [
        (d, d.year, (d.month + 2) // 3, MONTH_NAMES[d.month - 1], *d.isocalendar()[:2], d.isoweekday()) for d in days
    ]
    columns = ("date", "year", "quarter", "month_name", "iso_year", "iso_week", "day_of_week")
    assert rows(gold["dim_date"], *columns) == expected
