"""Gold table definitions shared by both engines: names, column types, sort keys, and small pure-Python rules.

Both engines (`jobs/pandas_engine/gold.py`, later the Spark one) write EXACTLY these schemas, with the rows
sorted by each table's `sort_key`, so their Parquet outputs can be compared row for row. Nothing here imports
pandas or pyarrow: an engine maps the logical type names (`twinlake.schema.ColumnType`) to its own types (see
`jobs/pandas_engine/arrow_schema.py`).

Shared semantics (each engine's tests hold it to them):
- Money is exact. Engines compute in integer cents (the unscaled value of a scale-2 decimal) and write
  decimals: `decimal(12,2)` for a purchase amount, `decimal(5,2)` for a promotion value, `decimal(18,2)` for
  every sum and average.
- An average is `sum / count` rounded HALF-UP to 2 places, computed on integers as `(2*s + n) // (2*n)` cents
  (every sum is >= 0: clean amounts and promotion values are > 0). An average over no rows is 0.00.
- "customers" / "clients" is the number of distinct `client_id`.
- A purchase's or promotion's `country` is the country of its client (Silver guarantees the client exists).
- Weeks are ISO-8601 weeks: `iso_year` is the ISO week-numbering year (2024-12-30 is 2025-W01, 2021-01-03 is
  2020-W53), never the calendar year. Day of week is ISO too: 1 = Monday .. 7 = Sunday.
- Dates are proleptic Gregorian days; month and day names are the fixed English ones below (never a locale's).
- Strings sort by their UTF-8 bytes (what both pyarrow and Spark do); every sort key is unique within its
  table, so the row order is total.
- Every column is written nullable (the engines' default); Gold never actually holds a null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from twinlake.datasets import DatasetName
from twinlake.manifest import DatasetCounts
from twinlake.rules import rules_for

# The logical column types live in `twinlake.schema` (Silver uses them too); re-exported for Gold's users.
from twinlake.schema import SILVER_TYPES as SILVER_TYPES
from twinlake.schema import ColumnType as ColumnType

# ISO day and month names, English and fixed: index 0 is Monday / January.
DAY_NAMES: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES: tuple[str, ...] = (
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


@dataclass(frozen=True)
class GoldColumn:
    """One column of a Gold table and its logical type."""

    name: str
    type: ColumnType


@dataclass(frozen=True)
class GoldTable:
    """A Gold table: its name (also its folder), its columns in order, and the unique key its rows sort by."""

    name: str
    columns: tuple[GoldColumn, ...]
    sort_key: tuple[str, ...]
    doc: str = ""

    def __post_init__(self) -> None:
        names = self.column_names
        if len(set(names)) != len(names):
            raise ValueError(f"gold table {self.name}: duplicate column names")
        if not self.sort_key or any(k not in names for k in self.sort_key):
            raise ValueError(f"gold table {self.name}: the sort key must be a non-empty list of its columns")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> GoldColumn:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"gold table {self.name} has no column {name!r}")


def _cols(*pairs: tuple[str, ColumnType]) -> tuple[GoldColumn, ...]:
    return tuple(GoldColumn(name, kind) for name, kind in pairs)


_SALES: tuple[tuple[str, ColumnType], ...] = (
    ("revenue", ColumnType.TOTAL),
    ("orders", ColumnType.INT64),
    ("customers", ColumnType.INT64),
)
_SALES_KPI: tuple[tuple[str, ColumnType], ...] = (*_SALES, ("avg_order_value", ColumnType.TOTAL))
_PROMO_KPI: tuple[tuple[str, ColumnType], ...] = (
    ("promotions", ColumnType.INT64),
    ("clients", ColumnType.INT64),
    ("avg_promo_value", ColumnType.TOTAL),
)

DIM_CLIENT = GoldTable(
    "dim_client",
    _cols(
        ("client_id", ColumnType.INT64),
        ("name", ColumnType.STRING),
        ("email", ColumnType.STRING),
        ("signup_date", ColumnType.DATE),
        ("country", ColumnType.STRING),
    ),
    ("client_id",),
    "Every clean client.",
)
DIM_PRODUCT = GoldTable(
    "dim_product",
    _cols(("product_id", ColumnType.INT32), ("product", ColumnType.STRING)),
    ("product_id",),
    "Every product of datasets.PRODUCTS, sold or not; product_id is its 1-based position there (stable).",
)
DIM_DATE = GoldTable(
    "dim_date",
    _cols(
        ("date", ColumnType.DATE),
        ("year", ColumnType.INT32),
        ("quarter", ColumnType.INT32),
        ("month", ColumnType.INT32),
        ("month_name", ColumnType.STRING),
        ("iso_year", ColumnType.INT32),
        ("iso_week", ColumnType.INT32),
        ("day", ColumnType.INT32),
        ("day_of_week", ColumnType.INT32),
        ("day_name", ColumnType.STRING),
    ),
    ("date",),
    "Every day from the first to the last purchase date inclusive, gaps included; empty when no purchases.",
)
FACT_PURCHASE = GoldTable(
    "fact_purchase",
    _cols(
        ("purchase_id", ColumnType.INT64),
        ("client_id", ColumnType.INT64),
        ("product_id", ColumnType.INT32),
        ("product", ColumnType.STRING),
        ("purchase_date", ColumnType.DATE),
        ("amount", ColumnType.MONEY),
        ("country", ColumnType.STRING),
    ),
    ("purchase_id",),
    "Every clean purchase, with its product_id and its client's country.",
)
FACT_PROMOTION = GoldTable(
    "fact_promotion",
    _cols(
        ("promo_id", ColumnType.INT64),
        ("client_id", ColumnType.INT64),
        ("promo_name", ColumnType.STRING),
        ("promo_value", ColumnType.PERCENT),
        ("country", ColumnType.STRING),
    ),
    ("promo_id",),
    "Every clean promotion, with its client's country.",
)
KPI_GLOBAL = GoldTable(
    "kpi_global",
    _cols(
        ("total_revenue", ColumnType.TOTAL),
        ("total_orders", ColumnType.INT64),
        ("unique_customers", ColumnType.INT64),
        ("avg_order_value", ColumnType.TOTAL),
    ),
    ("total_orders",),
    "Exactly one row, also when there is no purchase (zeros, avg_order_value 0.00); nominal sort key.",
)
KPI_BY_COUNTRY = GoldTable(
    "kpi_by_country",
    _cols(("country", ColumnType.STRING), *_SALES_KPI),
    ("country",),
    "One row per client country that HAS purchases: a country without sales has no row (not a zero row).",
)
KPI_BY_PRODUCT = GoldTable(
    "kpi_by_product",
    _cols(("product_id", ColumnType.INT32), ("product", ColumnType.STRING), *_SALES_KPI),
    ("product_id",),
    "One row per product that HAS purchases: an unsold product has no row here (dim_product lists it).",
)
PROMO_KPI_GLOBAL = GoldTable(
    "promo_kpi_global",
    _cols(
        ("total_promotions", ColumnType.INT64),
        ("clients_with_promotion", ColumnType.INT64),
        ("avg_promo_value", ColumnType.TOTAL),
    ),
    ("total_promotions",),
    "Exactly one row, also when there is no promotion (zeros, avg_promo_value 0.00); nominal sort key.",
)
PROMO_KPI_BY_NAME = GoldTable(
    "promo_kpi_by_name",
    _cols(("promo_name", ColumnType.STRING), *_PROMO_KPI),
    ("promo_name",),
    "One row per promotion NAME (not promo_id) that has promotions; unused names have no row.",
)
PROMO_KPI_BY_COUNTRY = GoldTable(
    "promo_kpi_by_country",
    _cols(("country", ColumnType.STRING), *_PROMO_KPI),
    ("country",),
    "One row per client country that has promotions; other countries have no row.",
)
SALES_BY_DAY = GoldTable(
    "sales_by_day",
    _cols(("date", ColumnType.DATE), *_SALES),
    ("date",),
    "One row per day WITH sales (dim_date is the gap-free calendar).",
)
SALES_BY_WEEK = GoldTable(
    "sales_by_week",
    _cols(("iso_year", ColumnType.INT32), ("iso_week", ColumnType.INT32), *_SALES),
    ("iso_year", "iso_week"),
    "One row per ISO week (ISO week-numbering year, never the calendar year) with sales.",
)
SALES_BY_MONTH = GoldTable(
    "sales_by_month",
    _cols(("month", ColumnType.STRING), *_SALES),
    ("month",),
    "One row per calendar month with sales; month is 'YYYY-MM'.",
)
DATA_QUALITY = GoldTable(
    "data_quality",
    _cols(
        ("dataset", ColumnType.STRING),
        ("rule", ColumnType.STRING),
        ("rows_failed", ColumnType.INT64),
        ("rows_in", ColumnType.INT64),
        ("rows_clean", ColumnType.INT64),
        ("rows_rejected", ColumnType.INT64),
    ),
    ("dataset", "rule"),
    "One row per dataset and EVERY rule code of that dataset (zeros included, so the shape is stable); "
    "rows_in, rows_clean and rows_rejected repeat the dataset's totals. A rejected row counts once per rule "
    "it fails.",
)

GOLD_TABLES: tuple[GoldTable, ...] = (
    DIM_CLIENT,
    DIM_PRODUCT,
    DIM_DATE,
    FACT_PURCHASE,
    FACT_PROMOTION,
    KPI_GLOBAL,
    KPI_BY_COUNTRY,
    KPI_BY_PRODUCT,
    PROMO_KPI_GLOBAL,
    PROMO_KPI_BY_NAME,
    PROMO_KPI_BY_COUNTRY,
    SALES_BY_DAY,
    SALES_BY_WEEK,
    SALES_BY_MONTH,
    DATA_QUALITY,
)
GOLD_TABLES_BY_NAME: dict[str, GoldTable] = {t.name: t for t in GOLD_TABLES}

# ---- data quality: the input both engines receive, and the rows it becomes ---------------------------------

# The Silver counts of every dataset of `DatasetName`, as the run's manifest records them. Codes missing from
# `rejected_by_rule` count 0; a code that is not one of the dataset's rules is an error.
DataQualityCounts = Mapping[DatasetName, DatasetCounts]

DataQualityRow = tuple[str, str, int, int, int, int]


def data_quality_rows(quality: DataQualityCounts) -> list[DataQualityRow]:
    """The rows of `data_quality`, sorted by (dataset, rule).

    The counts of each dataset add up (`DatasetCounts` validates them); raises ValueError when a dataset has no
    counts or its `rejected_by_rule` names a code that is not a rule of the dataset.
    """
    rows: list[DataQualityRow] = []
    for dataset in DatasetName:
        if dataset not in quality:
            raise ValueError(f"data quality: no counts for dataset {dataset.value!r}")
        counts = quality[dataset]
        codes = [rule.code for rule in rules_for(dataset)]
        unknown = sorted(code.value for code in set(counts.rejected_by_rule) - set(codes))
        if unknown:
            raise ValueError(f"data quality {dataset}: {unknown} are not rule codes of this dataset")
        for code in codes:
            failed = counts.rejected_by_rule.get(code, 0)
            rows.append((dataset.value, code.value, failed, counts.rows_in, counts.rows_clean, counts.rows_rejected))
    rows.sort(key=lambda r: (r[0].encode(), r[1].encode()))
    return rows
