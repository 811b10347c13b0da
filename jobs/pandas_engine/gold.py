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

from collections.abc import Callable, Mapping
from typing import Any, TypeAlias, assert_never

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from jobs.pandas_engine.arrow_schema import arrow_type, gold_schema
from twinlake.datasets import DATASETS, MONEY_SCALE, TOTAL_PRECISION, Dataset, DatasetName
from twinlake.gold import (
    DAY_NAMES,
    FACTS,
    GOLD_DECLARATIONS,
    GOLD_TABLES,
    MONTH_NAMES,
    SILVER_TYPES,
    Aggregate,
    Attribute,
    CalendarSpan,
    ClientExists,
    Count,
    DataQualityCounts,
    DistinctClients,
    Enumeration,
    Fact,
    GoldTable,
    HalfUpAverage,
    IsoWeek,
    IsoYear,
    Key,
    Measure,
    ProductExists,
    QualityCounts,
    SilverCopy,
    SilverPromiseBroken,
    SumCents,
    YearMonth,
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

    def __init__(self, columns: Mapping[str, pa.Array]) -> None:
        self.columns = columns
        self.ids = _unique_ids(self.columns["client_id"], "silver clients")
        self.index = pd.Index(self.ids)
        self.country: pa.Array = self.columns["country"]
        encoded = self.country.dictionary_encode()
        self.country_codes: Int64s = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        self.country_names: pa.Array = encoded.dictionary

    def positions(self, client_ids: Int64s, check: ClientExists) -> Int64s:
        found: Int64s = self.index.get_indexer(client_ids).astype(np.int64)
        missing = found < 0
        if missing.any():
            raise SilverPromiseBroken(check, int(missing.sum()), int(client_ids[missing].min()))
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


# ---- the compiler: declarations of twinlake.gold -> tables --------------------------------------------------


class _FactRows:
    """The clean rows of a fact's dataset, its integrity checks applied (SilverPromiseBroken), in the forms
    the compiled keys and measures read: pyarrow columns, int64 cents, dictionary codes, days."""

    def __init__(self, fact: Fact, columns: Mapping[str, pa.Array], client: _Clients) -> None:
        dataset = DATASETS[fact.dataset]
        self.fact = fact
        self.columns = dict(columns)
        _unique_ids(self.columns[dataset.id_column], f"silver {dataset.name}")
        self.client_ids: Int64s = self.columns["client_id"].to_numpy(zero_copy_only=False)
        # string columns already dictionary-encoded by a lookup: name -> (int64 codes, dictionary)
        self.codes: dict[str, tuple[Int64s, pa.Array]] = {}
        for check in fact.checks:
            match check:
                case ClientExists():
                    position = client.positions(self.columns[check.column].to_numpy(zero_copy_only=False), check)
                    self.columns[check.adds] = client.country.take(pa.array(position))
                    self.codes[check.adds] = (client.country_codes[position], client.country_names)
                case ProductExists():
                    products = pa.array(check.values, pa.string())
                    index = pc.index_in(self.columns[check.column], value_set=products)
                    if index.null_count:
                        unknown = pc.filter(self.columns[check.column], pc.is_null(index))
                        raise SilverPromiseBroken(check, len(unknown), str(pc.min(unknown).as_py()))
                    self.columns[check.adds] = pc.add(index.cast(pa.int32()), pa.scalar(1, pa.int32()))
                    self.codes[check.column] = (index.to_numpy(zero_copy_only=False).astype(np.int64), products)
                case _:
                    assert_never(check)
        self.cents = to_cents(self.columns[fact.money])
        _check_sums_fit(self.cents, f"{dataset.name}.{fact.money}")
        self._days: dict[str, Days] = {}
        self._calendars: dict[str, dict[str, Int64s]] = {}

    def days(self, column: str) -> Days:
        if column not in self._days:
            self._days[column] = self.columns[column].to_numpy(zero_copy_only=False).astype("datetime64[D]")
        return self._days[column]

    def calendar(self, column: str) -> dict[str, Int64s]:
        if column not in self._calendars:
            self._calendars[column] = _calendar(self.days(column))
        return self._calendars[column]


Decode = Callable[[Int64s], Column]


def _identity(codes: Int64s) -> Column:
    return codes


def _key(rows: _FactRows, key: Key) -> tuple[Int64s, Decode]:
    """A key as int64 codes per fact row, and how the codes of the groups become the key's output column."""
    match key:
        case Attribute():
            column = key.source
            if column in rows.codes:
                codes, dictionary = rows.codes[column]
                return codes, lambda c: dictionary.take(pa.array(c))
            values = rows.columns[column]
            if pa.types.is_integer(values.type):
                return values.to_numpy(zero_copy_only=False).astype(np.int64), _identity
            if pa.types.is_date(values.type):
                return rows.days(column).astype(np.int64), lambda c: c.astype("datetime64[D]")
            encoded = values.dictionary_encode()
            dictionary = encoded.dictionary
            indices: Int64s = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            return indices, lambda c: dictionary.take(pa.array(c))
        case IsoYear():
            return rows.calendar(key.column)["iso_year"], _identity
        case IsoWeek():
            return rows.calendar(key.column)["iso_week"], _identity
        case YearMonth():
            calendar = rows.calendar(key.column)
            return calendar["year"] * 100 + calendar["month"], lambda c: [
                f"{k // 100:04d}-{k % 100:02d}"
                for k in c.tolist()  # one per month
            ]
        case _:
            assert_never(key)


def _measure(measure: Measure, sums: Int64s, counts: Int64s, clients: Int64s) -> Column:
    match measure:
        case SumCents():
            return from_cents(sums)
        case Count():
            return counts
        case DistinctClients():
            return clients
        case HalfUpAverage():
            return from_cents(average_cents(sums, counts))
        case _:
            assert_never(measure)


def _aggregate(declaration: Aggregate, rows: _FactRows) -> pa.Table:
    """Per group of the keys: sum of cents, row count, distinct client_id; then each measure of them."""
    columns: dict[str, Column] = {}
    if not declaration.keys:
        sums = np.array([int(rows.cents.sum())], np.int64)
        counts = np.array([len(rows.cents)], np.int64)
        clients = np.array([pd.Index(rows.client_ids).nunique()], np.int64)
    else:
        keys = [_key(rows, key) for key in declaration.keys]
        # one int64 group code per row: the key codes in mixed radix (each shifted to start at 0)
        group = np.zeros(len(rows.cents), np.int64)
        bases: list[tuple[int, int]] = []
        for codes, _ in keys:
            low = int(codes.min()) if len(codes) else 0
            width = int(codes.max()) - low + 1 if len(codes) else 1
            group = group * width + (codes - low)
            bases.append((low, width))
        work = pd.DataFrame({"group": group, "client_id": rows.client_ids, "cents": rows.cents})
        grouped = work.groupby("group", sort=True).agg(
            s=pd.NamedAgg("cents", "sum"), n=pd.NamedAgg("cents", "size"), d=pd.NamedAgg("client_id", "nunique")
        )
        sums = grouped["s"].to_numpy(np.int64)
        counts = grouped["n"].to_numpy(np.int64)
        clients = grouped["d"].to_numpy(np.int64)
        rest = grouped.index.to_numpy(np.int64)
        for key, (_, decode), (low, width) in reversed(list(zip(declaration.keys, keys, bases, strict=True))):
            columns[key.name] = decode(rest % width + low)
            rest = rest // width
    for measure in declaration.measures:
        columns[measure.name] = _measure(measure, sums, counts, clients)
    return _table(declaration.table, columns)


def build_gold(
    clients: pd.DataFrame,
    purchases: pd.DataFrame,
    promotions: pd.DataFrame,
    quality: DataQualityCounts,
) -> dict[str, pa.Table]:
    """Every Gold table of `twinlake.gold.GOLD_TABLES`, by name, compiled from `GOLD_DECLARATIONS`.

    The frames hold the Silver columns (pyarrow-backed; extra columns such as lineage are ignored).
    `quality` is the Silver counts of every dataset (see `twinlake.gold.data_quality_rows`). Raises
    SilverPromiseBroken if a fact's client or product does not exist, ValueError if a frame breaks another Silver
    guarantee (nulls, repeated ids) or the counts are inconsistent.
    """
    frames = {DatasetName.CLIENTS: clients, DatasetName.PURCHASES: purchases, DatasetName.PROMOTIONS: promotions}
    silver = {
        name: {c.name: _column(frame, DATASETS[name], c.name) for c in DATASETS[name].columns}
        for name, frame in frames.items()
    }
    client = _Clients(silver[DatasetName.CLIENTS])
    facts = {fact: _FactRows(fact, silver[fact.dataset], client) for fact in FACTS}
    tables: dict[str, pa.Table] = {}
    for declaration in GOLD_DECLARATIONS:
        definition = declaration.table
        match declaration:
            case SilverCopy():
                columns = silver[declaration.dataset]
                tables[definition.name] = _table(definition, {n: columns[n] for n in definition.column_names})
            case Enumeration():
                ids = np.arange(1, len(declaration.values) + 1, dtype=np.int32)  # 1-based position
                tables[definition.name] = _table(
                    definition, {declaration.id_column: ids, declaration.value_column: list(declaration.values)}
                )
            case CalendarSpan():
                tables[definition.name] = _dim_date(definition, facts[declaration.fact].days(declaration.column))
            case Fact():
                columns = facts[declaration].columns
                tables[definition.name] = _table(definition, {n: columns[n] for n in definition.column_names})
            case Aggregate():
                tables[definition.name] = _aggregate(declaration, facts[declaration.fact])
            case QualityCounts():
                rows = data_quality_rows(quality)
                tables[definition.name] = _table(
                    definition, {c.name: [r[i] for r in rows] for i, c in enumerate(definition.columns)}
                )
            case _:
                assert_never(declaration)
    return {t.name: tables[t.name] for t in GOLD_TABLES}


def _dim_date(definition: GoldTable, purchase_days: Days) -> pa.Table:
    """Every day from the first to the last purchase day inclusive (no rows without purchases)."""
    if len(purchase_days) == 0:
        days: Days = np.array([], dtype="datetime64[D]")
    else:
        last = purchase_days.max() + np.timedelta64(1, "D")
        days = np.arange(purchase_days.min(), last, dtype="datetime64[D]")
    calendar = _calendar(days)
    return _table(
        definition,
        {
            "date": days,
            **{name: calendar[name] for name in ("year", "quarter", "month", "iso_year", "iso_week", "day")},
            "month_name": pa.array(MONTH_NAMES, pa.string()).take(pa.array(calendar["month"] - 1)),
            "day_of_week": calendar["day_of_week"],
            "day_name": pa.array(DAY_NAMES, pa.string()).take(pa.array(calendar["day_of_week"] - 1)),
        },
    )
