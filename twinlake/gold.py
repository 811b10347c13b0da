"""Gold tables declared once: names, column types, sort keys, how each table is computed, and the integrity checks.

`GOLD_TABLES` are the schemas; `GOLD_DECLARATIONS` say how each table is computed (its source, keys, calendar
derivations and measures) as small frozen nodes, like the Silver rules of `twinlake.rules`. The Pandas and Spark
Gold compilers (`jobs/pandas_engine/gold.py`, `jobs/spark_engine/gold.py`) and the DuckDB reference
(`benchmarks/duckdb_reference.py`) compile these declarations; each writes EXACTLY these schemas, with the rows
sorted by each table's `sort_key`, so their Parquet outputs can be compared row for row. Nothing here imports
pandas or pyarrow: an engine maps the logical type names (`twinlake.schema.ColumnType`) to its own types (see
`jobs/pandas_engine/arrow_schema.py`). A fact whose client or product does not exist fails every engine with
`SilverPromiseBroken` and the same message.

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

from twinlake.datasets import (
    PRODUCTS,
    DatasetName,
)
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


# ---- how each Gold table is computed: declared once, compiled by every engine --------------------------------
#
# A table is one of: a copy of a Silver dataset (`SilverCopy`), a fixed enumeration (`Enumeration`), the calendar
# spanned by a fact's dates (`CalendarSpan`), a fact (`Fact`: a Silver dataset joined to what its integrity checks
# look up), an aggregate of a fact (`Aggregate`: keys and measures), or the data-quality counts (`QualityCounts`).
# `jobs/pandas_engine/gold.py`, `jobs/spark_engine/gold.py` and `benchmarks/duckdb_reference.py` compile these
# nodes; none of them names a Gold table.


class SilverPromiseBroken(ValueError):
    """A clean Silver row breaks a promise Gold relies on (its client or product does not exist).

    Every engine raises it, with this message, for the first broken check in `GOLD_DECLARATIONS` order;
    `smallest` is the smallest offending value, so the message does not depend on row order.
    """

    def __init__(self, check: IntegrityCheck, rows: int, smallest: int | str) -> None:
        self.check = check
        self.rows = rows
        self.smallest = smallest
        super().__init__(
            f"silver {check.dataset}: {rows} row(s) {check.failure}, Silver promises none does "
            f"(smallest {check.column}: {smallest!r})"
        )


@dataclass(frozen=True)
class ClientExists:
    """Every row's `column` is the client_id of a clean client; the fact gains the client's `adds` (country)."""

    dataset: DatasetName
    column: str = "client_id"
    adds: str = "country"
    failure: str = "reference a client that is not clean"


@dataclass(frozen=True)
class ProductExists:
    """Every row's `column` is one of `values`; the fact gains `adds`, its 1-based position there (the
    product_id of `dim_product`)."""

    dataset: DatasetName
    column: str = "product"
    adds: str = "product_id"
    values: tuple[str, ...] = PRODUCTS
    failure: str = "hold a product outside datasets.PRODUCTS"


IntegrityCheck = ClientExists | ProductExists


@dataclass(frozen=True)
class SilverCopy:
    """Every clean row of `dataset`, with the table's columns."""

    table: GoldTable
    dataset: DatasetName


@dataclass(frozen=True)
class Enumeration:
    """One row per value of `values`: `id_column` is its 1-based position, `value_column` the value."""

    table: GoldTable
    values: tuple[str, ...]
    id_column: str
    value_column: str


@dataclass(frozen=True)
class Fact:
    """Every clean row of `dataset`, plus what its `checks` look up; `money` is the scale-2 decimal its
    aggregates sum (as integer cents)."""

    table: GoldTable
    dataset: DatasetName
    money: str
    checks: tuple[IntegrityCheck, ...]


@dataclass(frozen=True)
class CalendarSpan:
    """Every day from the first to the last `column` date of `fact` inclusive, with its calendar fields."""

    table: GoldTable
    fact: Fact
    column: str


# -- aggregate keys: each names its output column and derives it from one column of the fact --


@dataclass(frozen=True)
class Attribute:
    """The fact's `column` as it is (`column` defaults to `name`)."""

    name: str
    column: str = ""

    @property
    def source(self) -> str:
        return self.column or self.name


@dataclass(frozen=True)
class IsoYear:
    """The ISO week-numbering year of the date `column`."""

    name: str
    column: str


@dataclass(frozen=True)
class IsoWeek:
    """The ISO week (1..53) of the date `column`."""

    name: str
    column: str


@dataclass(frozen=True)
class YearMonth:
    """The calendar month of the date `column`, as 'YYYY-MM'."""

    name: str
    column: str


Key = Attribute | IsoYear | IsoWeek | YearMonth


# -- aggregate measures: each names its output column --


@dataclass(frozen=True)
class SumCents:
    """The exact sum of the fact's money, decimal(18,2) (0.00 over no rows)."""

    name: str


@dataclass(frozen=True)
class Count:
    """The number of rows."""

    name: str


@dataclass(frozen=True)
class DistinctClients:
    """The number of distinct client_id."""

    name: str


@dataclass(frozen=True)
class HalfUpAverage:
    """The fact's money summed / the row count, half-up to a cent, decimal(18,2) (0.00 over no rows)."""

    name: str


Measure = SumCents | Count | DistinctClients | HalfUpAverage


@dataclass(frozen=True)
class Aggregate:
    """One row per distinct `keys` value among the rows of `fact` (no keys: exactly one row, also when empty)."""

    table: GoldTable
    fact: Fact
    keys: tuple[Key, ...]
    measures: tuple[Measure, ...]


@dataclass(frozen=True)
class QualityCounts:
    """The rows of `data_quality_rows`."""

    table: GoldTable


GoldDeclaration = SilverCopy | Enumeration | Fact | CalendarSpan | Aggregate | QualityCounts

PURCHASE_FACT = Fact(
    FACT_PURCHASE,
    DatasetName.PURCHASES,
    "amount",
    (ClientExists(DatasetName.PURCHASES), ProductExists(DatasetName.PURCHASES)),
)
PROMOTION_FACT = Fact(FACT_PROMOTION, DatasetName.PROMOTIONS, "promo_value", (ClientExists(DatasetName.PROMOTIONS),))
FACTS: tuple[Fact, ...] = (PURCHASE_FACT, PROMOTION_FACT)

_SALES_MEASURES = (SumCents("revenue"), Count("orders"), DistinctClients("customers"))
_SALES_KPI_MEASURES = (*_SALES_MEASURES, HalfUpAverage("avg_order_value"))
_PROMO_MEASURES = (Count("promotions"), DistinctClients("clients"), HalfUpAverage("avg_promo_value"))

GOLD_DECLARATIONS: tuple[GoldDeclaration, ...] = (
    SilverCopy(DIM_CLIENT, DatasetName.CLIENTS),
    Enumeration(DIM_PRODUCT, PRODUCTS, "product_id", "product"),
    CalendarSpan(DIM_DATE, PURCHASE_FACT, "purchase_date"),
    PURCHASE_FACT,
    PROMOTION_FACT,
    Aggregate(
        KPI_GLOBAL,
        PURCHASE_FACT,
        (),
        (
            SumCents("total_revenue"),
            Count("total_orders"),
            DistinctClients("unique_customers"),
            HalfUpAverage("avg_order_value"),
        ),
    ),
    Aggregate(KPI_BY_COUNTRY, PURCHASE_FACT, (Attribute("country"),), _SALES_KPI_MEASURES),
    Aggregate(KPI_BY_PRODUCT, PURCHASE_FACT, (Attribute("product_id"), Attribute("product")), _SALES_KPI_MEASURES),
    Aggregate(
        PROMO_KPI_GLOBAL,
        PROMOTION_FACT,
        (),
        (Count("total_promotions"), DistinctClients("clients_with_promotion"), HalfUpAverage("avg_promo_value")),
    ),
    Aggregate(PROMO_KPI_BY_NAME, PROMOTION_FACT, (Attribute("promo_name"),), _PROMO_MEASURES),
    Aggregate(PROMO_KPI_BY_COUNTRY, PROMOTION_FACT, (Attribute("country"),), _PROMO_MEASURES),
    Aggregate(SALES_BY_DAY, PURCHASE_FACT, (Attribute("date", "purchase_date"),), _SALES_MEASURES),
    Aggregate(
        SALES_BY_WEEK,
        PURCHASE_FACT,
        (IsoYear("iso_year", "purchase_date"), IsoWeek("iso_week", "purchase_date")),
        _SALES_MEASURES,
    ),
    Aggregate(SALES_BY_MONTH, PURCHASE_FACT, (YearMonth("month", "purchase_date"),), _SALES_MEASURES),
    QualityCounts(DATA_QUALITY),
)
GOLD_DECLARATIONS_BY_NAME: dict[str, GoldDeclaration] = {d.table.name: d for d in GOLD_DECLARATIONS}
INTEGRITY_CHECKS: tuple[IntegrityCheck, ...] = tuple(check for fact in FACTS for check in fact.checks)


def output_names(declaration: Aggregate) -> tuple[str, ...]:
    """The columns an aggregate produces, keys first (the table's own column order may differ)."""
    return (*(k.name for k in declaration.keys), *(m.name for m in declaration.measures))
