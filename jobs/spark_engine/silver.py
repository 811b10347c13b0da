"""Silver for the Spark engine: every Bronze row becomes exactly one clean row or one rejected row.

The twin of `jobs/pandas_engine/silver.py`: row rules compiled from `twinlake.rules`, then the duplicate rules
among the rows that pass every row rule, earlier = lower (source key, row number). Each rule's "fails" flag is a
column; a rejected row's `_reasons` lists the codes of every rule it fails, in rule declaration order; the counts
are ONE set of sums over the flags, observed while the clean rows are written (no job of their own, never one
job per rule).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Observation
from pyspark.sql import functions as F

from jobs.spark_engine.compiler import SparkCompiler, SparkDuplicateCompiler, normalise, trim
from jobs.spark_engine.spark_schema import as_nullable, rejected_schema, silver_schema
from twinlake.datasets import LINEAGE_COLUMNS, REASONS, ROW_NUMBER, SOURCE_KEY, Dataset, DatasetName
from twinlake.manifest import DatasetCounts
from twinlake.rules import DuplicateRule, RowRule, duplicate_rules, row_rules, rules_for

_ELIGIBLE = "__eligible"
_REJECTED = "__rejected"
# Duplicates (source key, row number, flags: ~40 bytes a row) broadcast to the checked rows up to this many.
BROADCAST_DUPLICATES_MAX = 2_000_000


def _trimmed(name: str) -> str:
    return f"__t_{name}"


def _typed(name: str) -> str:
    return f"__v_{name}"


def _flag(index: int) -> str:
    return f"__f{index}"


@dataclass(frozen=True)
class SparkSilverResult:
    """One dataset's Silver: typed clean rows, raw rejected rows with reasons (lazy frames), and the counts.

    The counts are observed while `clean` is first computed: read `counts` only after an action on `clean`
    (its write); it waits for that action. `materialised` are local checkpoints the lazy frames read; call
    `release()` once clean and rejected are written.
    """

    dataset: Dataset
    clean: DataFrame
    rejected: DataFrame
    observation: Observation
    materialised: tuple[DataFrame, ...]

    @property
    def counts(self) -> DatasetCounts:
        return dataset_counts(self.dataset, self.observation.get)

    def release(self) -> None:
        """Free the materialised rows now instead of whenever the JVM collects them (the frames are unusable after)."""
        for frame in self.materialised:
            frame.unpersist()
            plan = frame._jdf.queryExecution().logical()
            if plan.getClass().getSimpleName() == "LogicalRDD":
                plan.rdd().unpersist(False)


def check_rows(
    dataset: Dataset,
    bronze: DataFrame,
    reference_date: date,
    clean_ids: Mapping[tuple[DatasetName, str], DataFrame],
) -> DataFrame:
    """Bronze plus one boolean column per row rule (`__f<i>`, i = the rule's index in rule order), the
    eligibility (no row rule failed) and the typed values (`__v_<column>`, null for ineligible rows)."""
    rules = rules_for(dataset.name)
    trimmed = {c: _trimmed(c) for c in dataset.column_names}
    frame = bronze.withColumns({trimmed[c]: trim(F.col(c)) for c in dataset.column_names})
    compiler = SparkCompiler(trimmed, reference_date, clean_ids)
    frame = compiler.prepare(frame, tuple(r.check for r in row_rules(dataset.name)))

    row_flags: dict[str, Column] = {}
    for index, rule in enumerate(rules):
        if isinstance(rule, RowRule):
            row_flags[_flag(index)] = compiler.fails(rule.check)
    frame = frame.withColumns(row_flags)
    failed_any = F.lit(False)
    for name in row_flags:
        failed_any = failed_any | F.col(name)
    frame = frame.withColumn(_ELIGIBLE, ~failed_any)

    typed = normalise(dataset, trimmed)
    frame = frame.withColumns({_typed(c): F.when(F.col(_ELIGIBLE), value) for c, value in typed.items()})
    # The trimmed texts and the reference-join columns stay behind.
    return frame.select(*bronze.columns, *row_flags, _ELIGIBLE, *[_typed(c) for c in dataset.column_names])


def find_duplicates(dataset: Dataset, checked: DataFrame) -> DataFrame:
    """(source key, row number, one flag per duplicate rule) of the eligible rows that fail a duplicate rule.

    The duplicate rules are compiled by `SparkDuplicateCompiler`; "earlier" is lower (source key, row number).
    Only the eligible rows' typed values and order go through the shuffle, which both rules share with ONE sort.
    The result is small (only the duplicates), joined back by `annotate`.
    """
    rules = rules_for(dataset.name)
    order = (SOURCE_KEY, ROW_NUMBER)
    typed = {c: _typed(c) for c in dataset.column_names}
    compiler = SparkDuplicateCompiler(typed, order, tuple(r.check for r in duplicate_rules(dataset.name)))
    frame = compiler.prepare(checked.where(F.col(_ELIGIBLE)).select(*typed.values(), *order))
    flags = {_flag(i): compiler.fails(rule.check) for i, rule in enumerate(rules) if isinstance(rule, DuplicateRule)}
    frame = frame.withColumns(flags)
    any_flag = F.lit(False)
    for name in flags:
        any_flag = any_flag | F.col(name)
    return frame.where(any_flag).select(*order, *flags)


def annotate(dataset: Dataset, checked: DataFrame, duplicates: DataFrame, *, broadcast: bool) -> DataFrame:
    """`checked` plus the duplicate flags (false unless the row is among `duplicates`), `_reasons` (the codes
    of every rule the row fails, in rule order) and the rejected flag."""
    rules = rules_for(dataset.name)
    dup_flags = [n for n in duplicates.columns if n not in (SOURCE_KEY, ROW_NUMBER)]
    frame = checked.join(F.broadcast(duplicates) if broadcast else duplicates, [SOURCE_KEY, ROW_NUMBER], "left")
    frame = frame.withColumns({n: F.coalesce(F.col(n), F.lit(False)) for n in dup_flags})
    reasons = F.array(*[F.when(F.col(_flag(i)), F.lit(str(r.code))) for i, r in enumerate(rules)])
    frame = frame.withColumn(REASONS, F.filter(reasons, lambda code: code.isNotNull()))
    return frame.withColumn(_REJECTED, F.size(REASONS) > 0)


def count_columns(dataset: Dataset) -> list[Column]:
    """Aggregates over annotated rows: rows in, rejected rows and, per rule (`__f<i>`), the rows failing it."""
    sums = [F.sum(F.col(_flag(i)).cast("long")).alias(_flag(i)) for i in range(len(rules_for(dataset.name)))]
    return [F.count(F.lit(1)).alias("rows_in"), F.sum(F.col(_REJECTED).cast("long")).alias("rejected"), *sums]


def dataset_counts(dataset: Dataset, values: Mapping[str, Any]) -> DatasetCounts:
    """`DatasetCounts` from the values of `count_columns` (a sum over no rows is null: zero)."""
    rows_in = int(values["rows_in"] or 0)
    rejected = int(values["rejected"] or 0)
    return DatasetCounts(
        rows_in=rows_in,
        rows_clean=rows_in - rejected,
        rows_rejected=rejected,
        rejected_by_rule={r.code: int(values[_flag(i)] or 0) for i, r in enumerate(rules_for(dataset.name))},
    )


def build_silver(
    dataset: Dataset,
    bronze: DataFrame,
    reference_date: date,
    clean_ids: Mapping[tuple[DatasetName, str], DataFrame],
) -> SparkSilverResult:
    """Validate and normalise one dataset's Bronze rows (raw text plus lineage columns).

    The checked rows are materialised once (a local checkpoint: rows in the block manager, lineage cut, far
    cheaper to build than `persist`'s columnar cache for wide string rows; kept deserialized, which the three
    reads that follow scan faster than PySpark's default serialized level), and so are the duplicates; the
    counts and the clean and rejected writes then read them instead of re-running the rules. The wide rows are
    never shuffled: only the duplicate search's narrow rows are, and its result, normally a few percent of
    the rows, is broadcast back (joined with a shuffle instead when it is large, e.g. a file uploaded twice).
    Each output partition is sorted by (source key, row number), in which order its rows already come.
    """
    checked = check_rows(dataset, bronze, reference_date, clean_ids).localCheckpoint(
        eager=True, storageLevel=StorageLevel.MEMORY_AND_DISK_DESER
    )
    duplicates = find_duplicates(dataset, checked).localCheckpoint(
        eager=True, storageLevel=StorageLevel.MEMORY_AND_DISK_DESER
    )
    broadcast = duplicates.count() <= BROADCAST_DUPLICATES_MAX
    # The counts are observed while the clean rows are computed (no job of their own): every annotated row
    # passes the observation once, before the clean / rejected filter.
    observation = Observation(f"silver_{dataset.name}_{uuid.uuid4().hex}")
    annotated = annotate(dataset, checked, duplicates, broadcast=broadcast)
    observed = annotated.observe(observation, *count_columns(dataset))
    schema = silver_schema(dataset)
    order = (F.col(SOURCE_KEY), F.col(ROW_NUMBER))
    typed = [F.col(_typed(f.name)).cast(f.dataType).alias(f.name) for f in schema.fields[: len(dataset.columns)]]
    clean = observed.filter(~F.col(_REJECTED)).select(*typed, *LINEAGE_COLUMNS)
    rejected = annotated.filter(F.col(_REJECTED)).select(*dataset.column_names, *LINEAGE_COLUMNS, REASONS)
    clean = as_nullable(clean, schema).sortWithinPartitions(*order)
    rejected = as_nullable(rejected, rejected_schema(dataset)).sortWithinPartitions(*order)
    return SparkSilverResult(
        dataset=dataset, clean=clean, rejected=rejected, observation=observation, materialised=(checked, duplicates)
    )
