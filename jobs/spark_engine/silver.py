"""Silver for the Spark engine: every Bronze row becomes exactly one clean row or one rejected row.

The twin of `jobs/pandas_engine/silver.py`: row rules compiled from `twinlake.rules`, then the duplicate rules
among the rows that pass every row rule, earlier = lower (source key, row number). Each rule's "fails" flag is a
column; a rejected row's `_reasons` lists the codes of every rule it fails, in rule declaration order; the counts
come from ONE aggregation (a sum per flag), not one Spark job per rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import assert_never

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.spark_engine.compiler import SparkCompiler, normalise, trim
from jobs.spark_engine.spark_schema import as_nullable, rejected_schema, silver_schema
from twinlake.datasets import LINEAGE_COLUMNS, REASONS, ROW_NUMBER, SOURCE_KEY, Dataset, DatasetName
from twinlake.manifest import DatasetCounts
from twinlake.rules import ExactDuplicate, RepeatedId, Rule, row_rules, rules_for

_ELIGIBLE = "__eligible"
_REJECTED = "__rejected"


def _trimmed(name: str) -> str:
    return f"__t_{name}"


def _typed(name: str) -> str:
    return f"__v_{name}"


def _flag(index: int) -> str:
    return f"__f{index}"


@dataclass(frozen=True)
class SparkSilverResult:
    """One dataset's Silver: typed clean rows, raw rejected rows with reasons (lazy frames), and the counts.

    `annotated` is materialised (a local checkpoint); call `release()` once clean and rejected are written.
    """

    clean: DataFrame
    rejected: DataFrame
    counts: DatasetCounts
    annotated: DataFrame

    def release(self) -> None:
        """Free the materialised rows now instead of whenever the JVM collects them (the frame is unusable after)."""
        self.annotated.unpersist()
        plan = self.annotated._jdf.queryExecution().logical()
        if plan.getClass().getSimpleName() == "LogicalRDD":
            plan.rdd().unpersist(False)


def annotate(
    dataset: Dataset,
    bronze: DataFrame,
    reference_date: date,
    clean_ids: Mapping[tuple[DatasetName, str], DataFrame],
) -> DataFrame:
    """Bronze plus one boolean column per rule (`__f<i>`, rule order), the typed values and `_reasons`."""
    rules = rules_for(dataset.name)
    trimmed = {c: _trimmed(c) for c in dataset.column_names}
    frame = bronze.withColumns({trimmed[c]: trim(F.col(c)) for c in dataset.column_names})
    compiler = SparkCompiler(trimmed, reference_date, clean_ids)
    frame = compiler.prepare(frame, tuple(r.check for r in row_rules(dataset.name)))  # type: ignore[misc]

    row_flags: dict[str, Column] = {}
    for index, rule in enumerate(rules):
        if not rule.is_duplicate_rule:
            row_flags[_flag(index)] = compiler.fails(rule.check)  # type: ignore[arg-type]
    frame = frame.withColumns(row_flags)
    failed_any = F.lit(False)
    for name in row_flags:
        failed_any = failed_any | F.col(name)
    frame = frame.withColumn(_ELIGIBLE, ~failed_any)

    typed = normalise(dataset, trimmed)
    frame = frame.withColumns({_typed(c): F.when(F.col(_ELIGIBLE), value) for c, value in typed.items()})
    # Only what the outputs and the duplicate windows need goes through the window's shuffle and sort: the
    # trimmed texts and the reference-join columns stay behind.
    keep = [*bronze.columns, *row_flags, _ELIGIBLE, *[_typed(c) for c in dataset.column_names]]
    frame = frame.select(*keep)
    frame = frame.withColumns(_duplicate_flags(dataset, rules))

    reasons = F.array(*[F.when(F.col(_flag(i)), F.lit(str(r.code))) for i, r in enumerate(rules)])
    frame = frame.withColumn(REASONS, F.filter(reasons, lambda code: code.isNotNull()))
    return frame.withColumn(_REJECTED, F.size(REASONS) > 0)


def _duplicate_flags(dataset: Dataset, rules: tuple[Rule, ...]) -> dict[str, Column]:
    """`duplicate`: an earlier eligible row has the same typed content; `duplicate_id`: else, the same id."""
    order = (F.col(SOURCE_KEY), F.col(ROW_NUMBER))
    content = [F.col(_typed(c)) for c in dataset.column_names]
    exact = F.col(_ELIGIBLE) & (F.row_number().over(Window.partitionBy(F.col(_ELIGIBLE), *content).orderBy(*order)) > 1)
    flags: dict[str, Column] = {}
    for index, rule in enumerate(rules):
        if not rule.is_duplicate_rule:
            continue
        match rule.check:
            case ExactDuplicate():
                flags[_flag(index)] = exact
            case RepeatedId(column=column):
                by_id = Window.partitionBy(F.col(_ELIGIBLE), F.col(_typed(column))).orderBy(*order)
                flags[_flag(index)] = F.col(_ELIGIBLE) & (F.row_number().over(by_id) > 1) & ~exact
            case _:
                assert_never(rule.check)  # type: ignore[arg-type]
    return flags


def count_rows(dataset: Dataset, annotated: DataFrame) -> DatasetCounts:
    """Rows in / clean / rejected and rows failing each rule, from one aggregation over the flags."""
    rules = rules_for(dataset.name)
    sums = [F.sum(F.col(_flag(i)).cast("long")).alias(_flag(i)) for i in range(len(rules))]
    row = annotated.agg(
        F.count(F.lit(1)).alias("rows_in"), F.sum(F.col(_REJECTED).cast("long")).alias("rejected"), *sums
    ).collect()[0]
    rows_in = int(row["rows_in"])
    rejected = int(row["rejected"] or 0)
    return DatasetCounts(
        rows_in=rows_in,
        rows_clean=rows_in - rejected,
        rows_rejected=rejected,
        rejected_by_rule={str(r.code): int(row[_flag(i)] or 0) for i, r in enumerate(rules)},
    )


def build_silver(
    dataset: Dataset,
    bronze: DataFrame,
    reference_date: date,
    clean_ids: Mapping[tuple[DatasetName, str], DataFrame],
) -> SparkSilverResult:
    """Validate and normalise one dataset's Bronze rows (raw text plus lineage columns)."""
    # Materialised once (rows in the block manager, the lineage cut): the counts, the clean and the rejected
    # writes (and their sorts' range sampling) then read these rows instead of re-running the rules and the
    # duplicate windows. Far cheaper than `persist`, whose columnar cache is slow to build for wide string rows.
    annotated = annotate(dataset, bronze, reference_date, clean_ids).localCheckpoint(
        eager=True, storageLevel=StorageLevel.MEMORY_AND_DISK
    )
    counts = count_rows(dataset, annotated)
    schema = silver_schema(dataset)
    order = (F.col(SOURCE_KEY), F.col(ROW_NUMBER))
    typed = [F.col(_typed(f.name)).cast(f.dataType).alias(f.name) for f in schema.fields[: len(dataset.columns)]]
    clean = annotated.filter(~F.col(_REJECTED)).select(*typed, *LINEAGE_COLUMNS)
    rejected = annotated.filter(F.col(_REJECTED)).select(*dataset.column_names, *LINEAGE_COLUMNS, REASONS)
    clean = as_nullable(clean, schema).orderBy(*order)
    rejected = as_nullable(rejected, rejected_schema(dataset)).orderBy(*order)
    return SparkSilverResult(clean=clean, rejected=rejected, counts=counts, annotated=annotated)
