"""Gold with Spark: clean Silver DataFrames -> the Gold tables of `twinlake.gold`, as DataFrames.

The twin of `jobs/pandas_engine/gold.py`; every output has exactly `spark_schema.gold_schema` and is sorted by its
table's sort key. Exactness: a scale-2 decimal becomes bigint cents (`value * 100`, an exact decimal product cast
to bigint), sums are bigint sums (ANSI mode: an overflow is an error, never a wrap), averages are
`(2*s + n) div (2*n)` on integers (half-up, s >= 0), and cents go back as `cast(cents as decimal(20,0)) / 100`
cast to decimal(18,2) (exact: the quotient has two places). No float is involved anywhere.

ISO-8601 calendar: `weekofyear` is the ISO week; the ISO day of week is `(dayofweek + 5) % 7 + 1` (Spark's
`dayofweek` is 1 = Sunday); the ISO week-numbering year is the calendar year of the week's Thursday.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.spark_engine.spark_schema import as_nullable, gold_schema, literal_frame
from twinlake.datasets import PRODUCTS
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
    DataQualityCounts,
    GoldTable,
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


def _totals(frame: DataFrame, keys: list[str], count: str, clients: str) -> DataFrame:
    """Per `keys` (no keys: one row over everything, zeros when empty): the cents total `__s`, the row count
    `count` and the number of distinct clients `clients`.

    Two aggregations instead of `countDistinct`, whose plan shuffles every row twice: per (keys, client_id)
    first, which on a frame clustered by client_id (`cluster_by_client`) needs no shuffle, then per keys,
    which shuffles only partial aggregates.
    """
    per_client = frame.groupBy(*keys, "client_id").agg(F.sum("cents").alias("__s"), F.count(F.lit(1)).alias("__n"))
    return per_client.groupBy(*keys).agg(
        F.coalesce(F.sum("__s"), F.lit(0)).alias("__s"),
        F.coalesce(F.sum("__n"), F.lit(0)).alias(count),
        F.count(F.lit(1)).alias(clients),
    )


def _sales(frame: DataFrame, keys: list[str]) -> DataFrame:
    return _totals(frame, keys, "orders", "customers").withColumns(
        {"revenue": from_cents(F.col("__s")), "avg_order_value": from_cents(half_up_average("__s", "orders"))}
    )


FACT_TABLES: tuple[str, ...] = (DIM_CLIENT.name, DIM_PRODUCT.name, FACT_PURCHASE.name, FACT_PROMOTION.name)


def build_facts(
    spark: SparkSession, clients: DataFrame, purchases: DataFrame, promotions: DataFrame
) -> dict[str, DataFrame]:
    """The Gold tables built from Silver rows (`FACT_TABLES`): the dimensions and the two fact tables."""
    tables: dict[str, DataFrame] = {}
    tables[DIM_CLIENT.name] = finish(DIM_CLIENT, clients)
    products = literal_frame(
        spark,
        [(i + 1, name) for i, name in enumerate(PRODUCTS)],
        T.StructType([T.StructField("product_id", T.IntegerType()), T.StructField("product", T.StringType())]),
    )
    tables[DIM_PRODUCT.name] = finish(DIM_PRODUCT, products)
    country = F.broadcast(clients.select("client_id", "country"))
    product_id = F.array_position(F.array(*[F.lit(p) for p in PRODUCTS]), F.col("product")).cast("int")
    fact = purchases.join(country, "client_id").withColumn("product_id", product_id)
    tables[FACT_PURCHASE.name] = finish(FACT_PURCHASE, fact)
    tables[FACT_PROMOTION.name] = finish(FACT_PROMOTION, promotions.join(country, "client_id"))
    return tables


def cluster_by_client(fact_purchase: DataFrame, fact_promotion: DataFrame) -> tuple[DataFrame, DataFrame]:
    """The columns the aggregates read, in cents, hash-partitioned by client_id (one shuffle per fact).

    Every aggregate counts distinct clients, so every one of them groups by client_id first; on frames already
    clustered by client_id that step is local. A run caches these two frames for the aggregates it derives.
    """
    day = F.col("purchase_date")
    purchases = fact_purchase.select(
        "client_id",
        to_cents(F.col("amount")).alias("cents"),
        "country",
        "product_id",
        "product",
        day.alias("date"),
        iso_year(day).alias("iso_year"),
        F.weekofyear(day).alias("iso_week"),
        F.format_string("%04d-%02d", F.year(day), F.month(day)).alias("month"),
    )
    promotions = fact_promotion.select(
        "client_id", to_cents(F.col("promo_value")).alias("cents"), "promo_name", "country"
    )
    return purchases.repartition("client_id"), promotions.repartition("client_id")


def build_aggregates(
    spark: SparkSession,
    purchases: DataFrame,
    promotions: DataFrame,
    quality: DataQualityCounts,
) -> dict[str, DataFrame]:
    """Every other Gold table, from the fact tables as `cluster_by_client` shapes them (they hold every clean
    purchase and promotion, each with its client's country and product_id: Silver guarantees the client exists)
    and the Silver counts. A run passes the facts as read back from their Parquet, so no aggregate recomputes
    the Silver joins.
    """
    tables: dict[str, DataFrame] = {}
    overall = _totals(purchases, [], "total_orders", "unique_customers")
    tables[KPI_GLOBAL.name] = finish(
        KPI_GLOBAL,
        overall.withColumns(
            {
                "total_revenue": from_cents(F.col("__s")),
                "avg_order_value": from_cents(half_up_average("__s", "total_orders")),
            }
        ),
    )
    tables[KPI_BY_COUNTRY.name] = finish(KPI_BY_COUNTRY, _sales(purchases, ["country"]))
    tables[KPI_BY_PRODUCT.name] = finish(KPI_BY_PRODUCT, _sales(purchases, ["product_id", "product"]))
    tables[SALES_BY_DAY.name] = finish(SALES_BY_DAY, _sales(purchases, ["date"]))
    tables[SALES_BY_WEEK.name] = finish(SALES_BY_WEEK, _sales(purchases, ["iso_year", "iso_week"]))
    tables[SALES_BY_MONTH.name] = finish(SALES_BY_MONTH, _sales(purchases, ["month"]))
    tables[DIM_DATE.name] = _dim_date(purchases)

    promo_overall = _totals(promotions, [], "total_promotions", "clients_with_promotion")
    tables[PROMO_KPI_GLOBAL.name] = finish(
        PROMO_KPI_GLOBAL,
        promo_overall.withColumn("avg_promo_value", from_cents(half_up_average("__s", "total_promotions"))),
    )
    for definition, key in ((PROMO_KPI_BY_NAME, "promo_name"), (PROMO_KPI_BY_COUNTRY, "country")):
        grouped = _totals(promotions, [key], "promotions", "clients")
        tables[definition.name] = finish(
            definition, grouped.withColumn("avg_promo_value", from_cents(half_up_average("__s", "promotions")))
        )

    rows = data_quality_rows(quality)
    quality_frame = literal_frame(
        spark,
        rows,
        gold_schema(DATA_QUALITY),
    )
    tables[DATA_QUALITY.name] = finish(DATA_QUALITY, quality_frame)
    return tables


def build_gold(
    spark: SparkSession,
    clients: DataFrame,
    purchases: DataFrame,
    promotions: DataFrame,
    quality: DataQualityCounts,
) -> dict[str, DataFrame]:
    """Every Gold table of `twinlake.gold.GOLD_TABLES`, by name (lazy DataFrames, in GOLD_TABLES order)."""
    facts = build_facts(spark, clients, purchases, promotions)
    clustered = cluster_by_client(facts[FACT_PURCHASE.name], facts[FACT_PROMOTION.name])
    tables = {**facts, **build_aggregates(spark, *clustered, quality)}
    return {t.name: tables[t.name] for t in GOLD_TABLES}


def _dim_date(purchases: DataFrame) -> DataFrame:
    """Every day from the first to the last purchase day inclusive (empty when there is no purchase)."""
    bounds = purchases.agg(F.min("date").alias("first"), F.max("date").alias("last"))
    days = bounds.where(F.col("first").isNotNull()).select(
        F.explode(F.sequence("first", "last", F.expr("interval 1 day"))).alias("date")
    )
    d = F.col("date")
    dow = iso_day_of_week(d)
    return finish(
        DIM_DATE,
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
