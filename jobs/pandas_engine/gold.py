"""Gold with pandas: clean Silver frames -> the Gold tables of `twinlake.gold`, as pyarrow Tables.

`build_gold` is a pure function (no I/O). Its output has exactly the schemas of `twinlake.gold.GOLD_TABLES`
(`arrow_schema.gold_schema`) and rows sorted by each table's sort key, so it can be compared with the Spark
engine's output row for row.

How exactness is kept:
- A scale-2 decimal column becomes int64 cents by reinterpreting its unscaled value (`view` as scale 0, then
  an exact cast to int64); no float is ever involved.
- Sums are int64 sums of cents. `_check_sums_fit` proves beforehand that no sum can leave decimal(18,2) (so
  none can overflow int64 either): max(cents) * rows < 10**18.
- Averages are `(2*s + n) // (2*n)`, i.e. s / n rounded half-up, on integers (s >= 0).
- Cents go back to decimal(18,2) by the inverse path: an exact cast int64 -> decimal(19,0), a `view` as
  decimal(19,2) (same unscaled value, now read as cents), and a checked cast to decimal(18,2).
The big tables (facts) are pyarrow arrays passed through or gathered with `take`; aggregates are pandas
`groupby` over int64 keys. Nothing loops in Python over rows, only over the (few) result groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from jobs.pandas_engine.arrow_schema import arrow_type, gold_schema
from twinlake.datasets import CLIENTS, MONEY_SCALE, PRODUCTS, PROMOTIONS, PURCHASES, TOTAL_PRECISION, Dataset
from twinlake.gold import (
    DATA_QUALITY,
    DAY_NAMES,
    DIM_CLIENT,
    DIM_DATE,
    DIM_PRODUCT,
    FACT_PROMOTION,
    FACT_PURCHASE,
    GOLD_TABLES,
    KPI_BY_COUNTRY,
    KPI_BY_PRODUCT,
    KPI_GLOBAL,
    MONTH_NAMES,
    PROMO_KPI_BY_COUNTRY,
    PROMO_KPI_BY_NAME,
    PROMO_KPI_GLOBAL,
    SALES_BY_DAY,
    SALES_BY_MONTH,
    SALES_BY_WEEK,
    SILVER_TYPES,
    DataQualityCounts,
    GoldTable,
    data_quality_rows,
)

Int64s = npt.NDArray[np.int64]
Days = npt.NDArray[np.datetime64]
Column: TypeAlias = "pa.Array | pa.ChunkedArray | npt.NDArray[Any] | list[Any]"

_TOTAL = pa.decimal128(TOTAL_PRECISION, MONEY_SCALE)
_TOTAL_LIMIT = 10**TOTAL_PRECISION  # in cents: every decimal(18,2) value is strictly below it in magnitude


# ---- exact decimal <-> cents -------------------------------------------------------------------------------


def to_cents(values: pa.Array) -> Int64s:
    """The unscaled int64 values (cents) of a scale-2 decimal array without nulls, exactly."""
    kind = values.type
    if not pa.types.is_decimal(kind) or kind.scale != MONEY_SCALE or kind.precision > TOTAL_PRECISION:
        raise TypeError(f"expected a decimal with scale {MONEY_SCALE} and precision <= 18, got {kind}")
    unscaled = values.view(pa.decimal128(kind.precision, 0))
    cents: Int64s = unscaled.cast(pa.int64()).to_numpy(zero_copy_only=False)
    return cents


def from_cents(cents: Int64s) -> pa.Array:
    """A decimal(18,2) array whose values are `cents` / 100, exactly (ArrowInvalid if one does not fit)."""
    as_int = pa.array(np.asarray(cents, dtype=np.int64), pa.int64())
    unscaled = as_int.cast(pa.decimal128(TOTAL_PRECISION + 1, 0))
    return unscaled.view(pa.decimal128(TOTAL_PRECISION + 1, MONEY_SCALE)).cast(_TOTAL)


def average_cents(sums: Int64s, counts: Int64s) -> Int64s:
    """sums / counts rounded half-up to a whole cent; 0 where counts is 0. Needs sums >= 0."""
    if (sums < 0).any():
        raise ValueError("half-up averages are only defined here for non-negative sums")
    safe = np.maximum(counts, 1)
    averages: Int64s = np.where(counts > 0, (2 * sums + counts) // (2 * safe), 0).astype(np.int64)
    return averages


def _check_sums_fit(cents: Int64s, what: str) -> None:
    # Any group sum is at most max * len; below 10**18 it fits decimal(18,2), and 2*s + n fits int64.
    if len(cents) and int(cents.max()) * len(cents) >= _TOTAL_LIMIT:
        raise OverflowError(f"{what}: sums could exceed decimal(18,2)")
    if len(cents) and int(cents.min()) < 0:
        raise ValueError(f"{what}: clean values are positive, found a negative one")


# ---- Silver input ------------------------------------------------------------------------------------------


def _column(frame: pd.DataFrame, dataset: Dataset, name: str) -> pa.Array:
    """One Silver column as a single pyarrow array of its declared Silver type; refuses nulls."""
    if name not in frame.columns:
        raise KeyError(f"silver {dataset.name} has no column {name!r}")
    values = pa.array(frame[name])
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(arrow_type(SILVER_TYPES[dataset.column(name).kind]))
    if values.null_count:
        raise ValueError(f"silver {dataset.name}.{name} holds nulls: clean Silver never does")
    return values


def _unique_ids(ids: pa.Array, what: str) -> Int64s:
    array: Int64s = ids.to_numpy(zero_copy_only=False)
    if not pd.Index(array).is_unique:
        raise ValueError(f"{what} repeats an id: clean Silver ids are unique")
    return array


class _Clients:
    """Clean clients, and the lookup from a client_id to its row and country."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.columns = {c.name: _column(frame, CLIENTS, c.name) for c in CLIENTS.columns}
        self.ids = _unique_ids(self.columns["client_id"], "silver clients")
        self.index = pd.Index(self.ids)
        self.country: pa.Array = self.columns["country"]
        encoded = self.country.dictionary_encode()
        self.country_codes: Int64s = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        self.country_names: pa.Array = encoded.dictionary

    def positions(self, client_ids: Int64s, what: str) -> Int64s:
        found: Int64s = self.index.get_indexer(client_ids).astype(np.int64)
        if (found < 0).any():
            raise ValueError(f"{what} references a client that is not clean: Silver guarantees it does not")
        return found


# ---- calendar ----------------------------------------------------------------------------------------------


def _calendar(days: Days) -> dict[str, Int64s]:
    """Calendar and ISO-8601 fields of datetime64[D] days (proleptic Gregorian, any year numpy supports)."""
    day_numbers = days.astype(np.int64)  # days since 1970-01-01, a Thursday
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    year = years.astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day_of_week = (day_numbers + 3) % 7 + 1  # 1 = Monday .. 7 = Sunday
    # The ISO week belongs to the year of its Thursday; week 1 is the week holding that year's first Thursday.
    thursday = days - (day_of_week - 4).astype("timedelta64[D]")
    iso_year_start = thursday.astype("datetime64[Y]")
    iso_week = (thursday - iso_year_start.astype("datetime64[D]")).astype(np.int64) // 7 + 1
    return {
        "year": year,
        "quarter": (month - 1) // 3 + 1,
        "month": month,
        "day": (days - months.astype("datetime64[D]")).astype(np.int64) + 1,
        "day_of_week": day_of_week,
        "iso_year": iso_year_start.astype(np.int64) + 1970,
        "iso_week": iso_week,
    }


# ---- output ------------------------------------------------------------------------------------------------


def _table(definition: GoldTable, columns: Mapping[str, Column]) -> pa.Table:
    """A Gold table with exactly `definition`'s schema (checked casts only), sorted by its sort key."""
    if set(columns) != set(definition.column_names):
        expected = definition.column_names
        raise ValueError(f"{definition.name}: got columns {sorted(columns)}, expected {expected}")
    schema = gold_schema(definition)
    arrays = []
    for field in schema:
        values = columns[field.name]
        array = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
        arrays.append(array.cast(field.type))
    table = pa.Table.from_arrays(arrays, schema=schema)
    if table.num_rows > 1:
        table = table.sort_by([(key, "ascending") for key in definition.sort_key])
    return table


def _sales_columns(grouped: pd.DataFrame) -> dict[str, Column]:
    sums = grouped["revenue"].to_numpy(np.int64)
    counts = grouped["orders"].to_numpy(np.int64)
    return {
        "revenue": from_cents(sums),
        "orders": counts,
        "customers": grouped["customers"].to_numpy(np.int64),
    }


def _group(frame: pd.DataFrame, keys: list[str], value: str, names: tuple[str, str, str]) -> pd.DataFrame:
    """Per group of `keys`: sum of `value`, row count, distinct client_id; keys as columns, sorted by them."""
    total, count, distinct = names
    grouped = frame.groupby(keys, sort=True).agg(
        **{
            total: pd.NamedAgg(value, "sum"),
            count: pd.NamedAgg(value, "size"),
            distinct: pd.NamedAgg("client_id", "nunique"),
        }
    )
    return grouped.reset_index()


def _sales(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return _group(frame, keys, "cents", ("revenue", "orders", "customers"))


def _with_average(grouped: pd.DataFrame, total: str, count: str) -> Int64s:
    return average_cents(grouped[total].to_numpy(np.int64), grouped[count].to_numpy(np.int64))


# ---- the build ---------------------------------------------------------------------------------------------


def build_gold(
    clients: pd.DataFrame,
    purchases: pd.DataFrame,
    promotions: pd.DataFrame,
    quality: DataQualityCounts,
) -> dict[str, pa.Table]:
    """Every Gold table of `twinlake.gold.GOLD_TABLES`, by name, from the clean Silver frames and DQ counts.

    The frames hold the Silver columns (pyarrow-backed; extra columns such as lineage are ignored).
    `quality` is the Silver counts of every dataset (see `twinlake.gold.data_quality_rows`). Raises ValueError if
    a frame breaks a Silver guarantee (nulls, repeated ids, unknown client or product) or the counts are inconsistent.
    """
    tables: dict[str, pa.Table] = {}
    client = _Clients(clients)
    tables[DIM_CLIENT.name] = _table(DIM_CLIENT, client.columns)
    product_ids = np.arange(1, len(PRODUCTS) + 1, dtype=np.int32)  # 1-based position in PRODUCTS
    tables[DIM_PRODUCT.name] = _table(DIM_PRODUCT, {"product_id": product_ids, "product": list(PRODUCTS)})
    tables.update(_purchase_tables(client, purchases))
    tables.update(_promotion_tables(client, promotions))
    rows = data_quality_rows(quality)
    tables[DATA_QUALITY.name] = _table(
        DATA_QUALITY, {c.name: [r[i] for r in rows] for i, c in enumerate(DATA_QUALITY.columns)}
    )
    return {t.name: tables[t.name] for t in GOLD_TABLES}


def _purchase_tables(client: _Clients, frame: pd.DataFrame) -> dict[str, pa.Table]:
    cols = {c.name: _column(frame, PURCHASES, c.name) for c in PURCHASES.columns}
    _unique_ids(cols["purchase_id"], "silver purchases")
    client_ids: Int64s = cols["client_id"].to_numpy(zero_copy_only=False)
    position = client.positions(client_ids, "silver purchases")
    product_index = pc.index_in(cols["product"], value_set=pa.array(PRODUCTS, pa.string()))
    if product_index.null_count:
        raise ValueError("silver purchases holds a product outside datasets.PRODUCTS")
    product_id = pc.add(product_index.cast(pa.int32()), pa.scalar(1, pa.int32()))
    cents = to_cents(cols["amount"])
    _check_sums_fit(cents, "purchase amounts")
    days: Days = cols["purchase_date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    calendar = _calendar(days)

    tables = {
        FACT_PURCHASE.name: _table(
            FACT_PURCHASE,
            {
                "purchase_id": cols["purchase_id"],
                "client_id": cols["client_id"],
                "product_id": product_id,
                "product": cols["product"],
                "purchase_date": cols["purchase_date"],
                "amount": cols["amount"],
                "country": client.country.take(pa.array(position)),
            },
        )
    }

    work = pd.DataFrame(
        {
            "client_id": client_ids,
            "cents": cents,
            "country": client.country_codes[position],
            "product_id": product_id.to_numpy(zero_copy_only=False).astype(np.int64),
            "day": days.astype(np.int64),
            "week": calendar["iso_year"] * 100 + calendar["iso_week"],
            "month": calendar["year"] * 100 + calendar["month"],
        }
    )

    orders = len(work)
    revenue = int(cents.sum())
    tables[KPI_GLOBAL.name] = _table(
        KPI_GLOBAL,
        {
            "total_revenue": from_cents(np.array([revenue], np.int64)),
            "total_orders": [orders],
            "unique_customers": [int(work["client_id"].nunique())],
            "avg_order_value": from_cents(average_cents(np.array([revenue]), np.array([orders]))),
        },
    )

    by_country = _sales(work, ["country"])
    tables[KPI_BY_COUNTRY.name] = _table(
        KPI_BY_COUNTRY,
        {
            "country": client.country_names.take(pa.array(by_country["country"].to_numpy(np.int64))),
            **_sales_columns(by_country),
            "avg_order_value": from_cents(_with_average(by_country, "revenue", "orders")),
        },
    )
    by_product = _sales(work, ["product_id"])
    product_ids = by_product["product_id"].to_numpy(np.int64)
    tables[KPI_BY_PRODUCT.name] = _table(
        KPI_BY_PRODUCT,
        {
            "product_id": product_ids,
            "product": pa.array(PRODUCTS, pa.string()).take(pa.array(product_ids - 1)),
            **_sales_columns(by_product),
            "avg_order_value": from_cents(_with_average(by_product, "revenue", "orders")),
        },
    )

    by_day = _sales(work, ["day"])
    tables[SALES_BY_DAY.name] = _table(
        SALES_BY_DAY,
        {"date": by_day["day"].to_numpy(np.int64).astype("datetime64[D]"), **_sales_columns(by_day)},
    )
    by_week = _sales(work, ["week"])
    weeks = by_week["week"].to_numpy(np.int64)
    tables[SALES_BY_WEEK.name] = _table(
        SALES_BY_WEEK, {"iso_year": weeks // 100, "iso_week": weeks % 100, **_sales_columns(by_week)}
    )
    by_month = _sales(work, ["month"])
    month_labels = [f"{k // 100:04d}-{k % 100:02d}" for k in by_month["month"].tolist()]  # one per month
    tables[SALES_BY_MONTH.name] = _table(SALES_BY_MONTH, {"month": month_labels, **_sales_columns(by_month)})

    tables[DIM_DATE.name] = _dim_date(days)
    return tables


def _dim_date(purchase_days: Days) -> pa.Table:
    """Every day from the first to the last purchase day inclusive (no rows without purchases)."""
    if len(purchase_days) == 0:
        days: Days = np.array([], dtype="datetime64[D]")
    else:
        last = purchase_days.max() + np.timedelta64(1, "D")
        days = np.arange(purchase_days.min(), last, dtype="datetime64[D]")
    calendar = _calendar(days)
    return _table(
        DIM_DATE,
        {
            "date": days,
            **{name: calendar[name] for name in ("year", "quarter", "month", "iso_year", "iso_week", "day")},
            "month_name": pa.array(MONTH_NAMES, pa.string()).take(pa.array(calendar["month"] - 1)),
            "day_of_week": calendar["day_of_week"],
            "day_name": pa.array(DAY_NAMES, pa.string()).take(pa.array(calendar["day_of_week"] - 1)),
        },
    )


def _promotion_tables(client: _Clients, frame: pd.DataFrame) -> dict[str, pa.Table]:
    cols = {c.name: _column(frame, PROMOTIONS, c.name) for c in PROMOTIONS.columns}
    _unique_ids(cols["promo_id"], "silver promotions")
    client_ids: Int64s = cols["client_id"].to_numpy(zero_copy_only=False)
    position = client.positions(client_ids, "silver promotions")
    hundredths = to_cents(cols["promo_value"])  # a percent with 2 places, as an integer of 1/100 %
    _check_sums_fit(hundredths, "promotion values")
    names = cols["promo_name"].dictionary_encode()

    tables = {
        FACT_PROMOTION.name: _table(
            FACT_PROMOTION,
            {
                "promo_id": cols["promo_id"],
                "client_id": cols["client_id"],
                "promo_name": cols["promo_name"],
                "promo_value": cols["promo_value"],
                "country": client.country.take(pa.array(position)),
            },
        )
    }
    work = pd.DataFrame(
        {
            "client_id": client_ids,
            "value": hundredths,
            "name": names.indices.to_numpy(zero_copy_only=False).astype(np.int64),
            "country": client.country_codes[position],
        }
    )
    count = len(work)
    total = int(hundredths.sum())
    tables[PROMO_KPI_GLOBAL.name] = _table(
        PROMO_KPI_GLOBAL,
        {
            "total_promotions": [count],
            "clients_with_promotion": [int(work["client_id"].nunique())],
            "avg_promo_value": from_cents(average_cents(np.array([total]), np.array([count]))),
        },
    )
    labels = {"name": ("promo_name", names.dictionary), "country": ("country", client.country_names)}
    for definition, key in ((PROMO_KPI_BY_NAME, "name"), (PROMO_KPI_BY_COUNTRY, "country")):
        grouped = _group(work, [key], "value", ("total", "promotions", "clients"))
        column, dictionary = labels[key]
        tables[definition.name] = _table(
            definition,
            {
                column: dictionary.take(pa.array(grouped[key].to_numpy(np.int64))),
                "promotions": grouped["promotions"].to_numpy(np.int64),
                "clients": grouped["clients"].to_numpy(np.int64),
                "avg_promo_value": from_cents(_with_average(grouped, "total", "promotions")),
            },
        )
    return tables
