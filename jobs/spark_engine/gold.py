"""Gold with Spark: clean Silver DataFrames -> the Gold tables of `twinlake.gold`, as DataFrames.

The twin of `jobs/pandas_engine/gold.py`; every output has exactly `spark_schema.gold_schema` and is sorted by its
table's sort key. Exactness: a scale-2 decimal becomes bigint cents (`value * 100`, an exact decimal product cast
to bigint), sums are bigint sums (ANSI mode: an overflow is an error, never a wrap), averages are
`(2*s + n) div (2*n)` on integers (half-up, s >= 0), and cents go back as `cast(cents as decimal(20,0)) / 100`
cast to decimal(18,2) (exact: the quotient has two places). No float is involved anywhere.

Every table is compiled from its declaration in `twinlake.gold.GOLD_DECLARATIONS`; a broken integrity check (a
fact's client or product does not exist) raises `SilverPromiseBroken` from `check_promises`, with the Pandas
engine's message.

ISO-8601 calendar: `weekofyear` is the ISO week; the ISO day of week is `(dayofweek + 5) % 7 + 1` (Spark's
`dayofweek` is 1 = Sunday); the ISO week-numbering year is the calendar year of the week's Thursday.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import assert_never

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.spark_engine.spark_schema import as_nullable, gold_schema, literal_frame, spark_type
from twinlake.datasets import DatasetName
from twinlake.gold import (
    DAY_NAMES,
    FACTS,
    GOLD_DECLARATIONS,
    GOLD_TABLES,
    MONTH_NAMES,
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


def to_cents(value: Column) -> Column:
    """Exact bigint cents of a scale-2 decimal."""
    return (value * F.lit(100)).cast("long")


def from_cents(value: Column) -> Column:
    """Exact decimal(18,2) of bigint cents (an error under ANSI if it does not fit)."""
    return (value.cast("decimal(20,0)") / F.lit(100)).cast("decimal(18,2)")


def half_up_average(total: str, count: str) -> Column:
    """total / count rounded half-up to a whole cent, on integers; 0 where count is 0 (needs total >= 0)."""
    return F.when(F.col(count) > 0, F.expr(f"(2 * {total} + {count}) div (2 * {count})")).otherwise(F.lit(0))


def iso_day_of_week(day: Column) -> Column:
    return (F.dayofweek(day) + F.lit(5)) % F.lit(7) + F.lit(1)


def iso_year(day: Column) -> Column:
    """The ISO week-numbering year: the calendar year of the Thursday of `day`'s ISO week."""
    return F.year(F.date_add(day, F.lit(4) - iso_day_of_week(day)))


def finish(definition: GoldTable, frame: DataFrame) -> DataFrame:
    """Exactly `definition`'s columns, in order, with its types, sorted by its sort key."""
    schema = gold_schema(definition)
    missing = set(definition.column_names) - set(frame.columns)
    if missing:
        raise ValueError(f"{definition.name}: missing columns {sorted(missing)}")
    typed = frame.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])
    # One sorted partition (one Parquet file): no range-sampling job, and one object per table in the store.
    return as_nullable(typed, schema).repartition(1).sortWithinPartitions(*definition.sort_key)


# ---- facts and their integrity checks ----------------------------------------------------------------------


def _fact(fact: Fact, silver: Mapping[DatasetName, DataFrame]) -> DataFrame:
    """The fact's Silver rows with what its checks look up; a looked-up value is null where the check fails
    (left joins: a missing client is kept, with a null country, for `check_promises` to report)."""
    frame = silver[fact.dataset]
    for check in fact.checks:
        match check:
            case ClientExists():
                clients = silver[DatasetName.CLIENTS]
                lookup = F.broadcast(clients.select(F.col("client_id").alias(check.column), F.col(check.adds)))
                frame = frame.join(lookup, check.column, "left")
            case ProductExists():
                products = F.array(*[F.lit(p) for p in check.values])
                position = F.nullif(F.array_position(products, F.col(check.column)), F.lit(0))
                frame = frame.withColumn(check.adds, position.cast("int"))
            case _:
                assert_never(check)
    return frame


def check_promises(facts: Mapping[Fact, DataFrame]) -> None:
    """Raise SilverPromiseBroken for the first integrity check (declaration order) that a fact breaks.

    `facts` are frames holding each check's column and looked-up column (null where it failed): the facts
    of `build_facts`, or the frames of `cluster_by_client`. One small job per fact.
    """
    for fact in FACTS:
        failed = [F.col(check.adds).isNull() for check in fact.checks]
        metrics = (
            facts[fact]
            .agg(
                *[
                    metric
                    for check, fails in zip(fact.checks, failed, strict=True)
                    for metric in (
                        F.count(F.when(fails, F.lit(1))),
                        F.min(F.when(fails, F.col(check.column))),
                    )
                ]
            )
            .collect()[0]
        )
        for i, check in enumerate(fact.checks):
            rows, smallest = int(metrics[2 * i]), metrics[2 * i + 1]
            if rows:
                raise SilverPromiseBroken(check, rows, smallest)


FACT_TABLES: tuple[str, ...] = tuple(
    d.table.name for d in GOLD_DECLARATIONS if isinstance(d, SilverCopy | Enumeration | Fact)
)


def build_facts(
    spark: SparkSession, clients: DataFrame, purchases: DataFrame, promotions: DataFrame
) -> dict[str, DataFrame]:
    """The Gold tables built from Silver rows (`FACT_TABLES`): the dimensions and the facts (lazy; a fact
    holds a null where an integrity check fails, see `check_promises`)."""
    silver = {DatasetName.CLIENTS: clients, DatasetName.PURCHASES: purchases, DatasetName.PROMOTIONS: promotions}
    tables: dict[str, DataFrame] = {}
    for declaration in GOLD_DECLARATIONS:
        definition = declaration.table
        match declaration:
            case SilverCopy():
                tables[definition.name] = finish(definition, silver[declaration.dataset])
            case Enumeration():
                schema = T.StructType(
                    [
                        T.StructField(name, spark_type(definition.column(name).type))
                        for name in (declaration.id_column, declaration.value_column)
                    ]
                )
                rows = [(i + 1, value) for i, value in enumerate(declaration.values)]
                tables[definition.name] = finish(definition, literal_frame(spark, rows, schema))
            case Fact():
                tables[definition.name] = finish(definition, _fact(declaration, silver))
            case CalendarSpan() | Aggregate() | QualityCounts():
                pass
            case _:
                assert_never(declaration)
    return tables


# ---- aggregates ----------------------------------------------------------------------------------------------


def _derived(key: IsoYear | IsoWeek | YearMonth) -> Column:
    """A key computed from a fact column (once, by `cluster_by_client`)."""
    match key:
        case IsoYear():
            return iso_year(F.col(key.column))
        case IsoWeek():
            return F.weekofyear(F.col(key.column))
        case YearMonth():
            day = F.col(key.column)
            return F.format_string("%04d-%02d", F.year(day), F.month(day))
        case _:
            assert_never(key)


def _read_columns(fact: Fact) -> dict[str, Column]:
    """Every column the aggregates and calendars of `fact` (and its checks) read, by name."""
    columns: dict[str, Column] = {"client_id": F.col("client_id"), "cents": to_cents(F.col(fact.money))}
    for check in fact.checks:
        columns.setdefault(check.column, F.col(check.column))
        columns.setdefault(check.adds, F.col(check.adds))
    for declaration in GOLD_DECLARATIONS:
        if isinstance(declaration, CalendarSpan) and declaration.fact == fact:
            columns.setdefault(declaration.column, F.col(declaration.column))
        if isinstance(declaration, Aggregate) and declaration.fact == fact:
            for key in declaration.keys:
                if isinstance(key, Attribute):
                    columns.setdefault(key.source, F.col(key.source))
                else:
                    columns.setdefault(key.name, _derived(key))
    return columns


def cluster_by_client(facts: Mapping[Fact, DataFrame]) -> dict[Fact, DataFrame]:
    """The columns the aggregates read, money in cents and keys derived, hash-partitioned by client_id (one
    shuffle per fact).

    Every aggregate counts distinct clients, so every one of them groups by client_id first; on frames already
    clustered by client_id that step is local. A run caches these frames for the aggregates it derives.
    """
    clustered: dict[Fact, DataFrame] = {}
    for fact in FACTS:
        columns = _read_columns(fact)
        clustered[fact] = facts[fact].select(*[c.alias(n) for n, c in columns.items()]).repartition("client_id")
    return clustered


def _key_column(key: Key) -> Column:
    if isinstance(key, Attribute):
        return F.col(key.source).alias(key.name)
    return F.col(key.name)


def _measure(measure: Measure) -> Column:
    match measure:
        case SumCents():
            return from_cents(F.col("__s"))
        case Count():
            return F.col("__n")
        case DistinctClients():
            return F.col("__d")
        case HalfUpAverage():
            return from_cents(half_up_average("__s", "__n"))
        case _:
            assert_never(measure)


def _aggregate(declaration: Aggregate, frame: DataFrame) -> DataFrame:
    """Per keys (no keys: one row over everything, zeros when empty): the cents total, the row count and the
    number of distinct clients, then each measure of them.

    Two aggregations instead of `countDistinct`, whose plan shuffles every row twice: per (keys, client_id)
    first, which on a frame clustered by client_id (`cluster_by_client`) needs no shuffle, then per keys,
    which shuffles only partial aggregates.
    """
    keys = [_key_column(key) for key in declaration.keys]
    names = [key.name for key in declaration.keys]
    per_client = frame.groupBy(*keys, "client_id").agg(F.sum("cents").alias("__s"), F.count(F.lit(1)).alias("__n"))
    totals = per_client.groupBy(*names).agg(
        F.coalesce(F.sum("__s"), F.lit(0)).alias("__s"),
        F.coalesce(F.sum("__n"), F.lit(0)).alias("__n"),
        F.count(F.lit(1)).alias("__d"),
    )
    return finish(declaration.table, totals.withColumns({m.name: _measure(m) for m in declaration.measures}))


def build_aggregates(
    spark: SparkSession,
    facts: Mapping[Fact, DataFrame],
    quality: DataQualityCounts,
) -> dict[str, DataFrame]:
    """Every other Gold table, from the facts as `cluster_by_client` shapes them (`check_promises` has passed:
    they hold every clean purchase and promotion, each with its client's country and its product_id) and the
    Silver counts. A run passes the facts as read back from their Parquet, so no aggregate recomputes the
    Silver joins.
    """
    tables: dict[str, DataFrame] = {}
    for declaration in GOLD_DECLARATIONS:
        definition = declaration.table
        match declaration:
            case Aggregate():
                tables[definition.name] = _aggregate(declaration, facts[declaration.fact])
            case CalendarSpan():
                tables[definition.name] = _calendar_span(declaration, facts[declaration.fact])
            case QualityCounts():
                rows = data_quality_rows(quality)
                tables[definition.name] = finish(definition, literal_frame(spark, rows, gold_schema(definition)))
            case SilverCopy() | Enumeration() | Fact():
                pass
            case _:
                assert_never(declaration)
    return tables


def build_gold(
    spark: SparkSession,
    clients: DataFrame,
    purchases: DataFrame,
    promotions: DataFrame,
    quality: DataQualityCounts,
) -> dict[str, DataFrame]:
    """Every Gold table of `twinlake.gold.GOLD_TABLES`, by name (lazy DataFrames, in GOLD_TABLES order).

    Raises SilverPromiseBroken (one small job per fact) if a fact's client or product does not exist.
    """
    tables = build_facts(spark, clients, purchases, promotions)
    facts = {fact: tables[fact.table.name] for fact in FACTS}
    check_promises(facts)
    tables.update(build_aggregates(spark, cluster_by_client(facts), quality))
    return {t.name: tables[t.name] for t in GOLD_TABLES}


def _calendar_span(declaration: CalendarSpan, fact: DataFrame) -> DataFrame:
    """Every day from the first to the last date inclusive (empty when the fact has no row)."""
    bounds = fact.agg(F.min(declaration.column).alias("first"), F.max(declaration.column).alias("last"))
    days = bounds.where(F.col("first").isNotNull()).select(
        F.explode(F.sequence("first", "last", F.expr("interval 1 day"))).alias("date")
    )
    d = F.col("date")
    dow = iso_day_of_week(d)
    return finish(
        declaration.table,
        days.withColumns(
            {
                "year": F.year(d),
                "quarter": F.quarter(d),
                "month": F.month(d),
                "month_name": F.array(*[F.lit(m) for m in MONTH_NAMES])[F.month(d) - 1],
                "iso_year": iso_year(d),
                "iso_week": F.weekofyear(d),
                "day": F.dayofmonth(d),
                "day_of_week": dow,
                "day_name": F.array(*[F.lit(n) for n in DAY_NAMES])[dow - 1],
            }
        ),
    )
