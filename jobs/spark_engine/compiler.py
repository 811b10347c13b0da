"""Compiles the shared rule checks (`twinlake.rules`) and column kinds into Spark column expressions.

The Spark twin of `jobs/pandas_engine/compiler.py`, held to the same semantics:
- Trim removes exactly `TRIM_CHARACTERS` at both ends (`btrim` with that constant as its character set, no
  regex); an absent value is blank.
- ASCII-only case folding: `translate` A-Z -> a-z, never the locale- and Unicode-aware `lower`.
- Full-match regex semantics equal to RE2's: `rlike` finds, so the shared patterns are anchored; their final
  `$` becomes `\\z`, because Java's `$` also matches before a final line terminator (RE2's does not).
- Values are parsed only after their pattern check passed, and with the `try_` forms, so ANSI mode never
  throws on bad data: `try_to_timestamp(v, 'yyyy-MM-dd')` (strict resolver: 2026-02-30 is null) for dates,
  `try_cast` to the shared parse width (`twinlake.schema`, decimal(16,2)) for decimals, to bigint for ids.
- `NotAmongClean` is a broadcast left join against the clean ids of the referenced dataset (`prepare`).
- The duplicate checks (`SparkDuplicateCompiler`) share one window over the eligible rows' typed values.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import date
from typing import assert_never

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from twinlake.datasets import (
    MONEY_PRECISION,
    MONEY_SCALE,
    PERCENT_PRECISION,
    PERCENT_SCALE,
    ColumnKind,
    Dataset,
    DatasetName,
)
from twinlake.rules import (
    DECIMAL_2_PATTERN,
    ISO_DATE_PATTERN,
    POSITIVE_ID_PATTERN,
    TRIM_CHARACTERS,
    AfterReferenceDate,
    Blank,
    DuplicateCheck,
    ExactDuplicate,
    NotAllowed,
    NotAmongClean,
    NotCalendarDate,
    NotMatching,
    OutsideRange,
    RepeatedId,
    RowCheck,
    duplicate_rules,
)
from twinlake.schema import PARSE_DECIMAL_PRECISION, PARSE_DECIMAL_SCALE

PARSE_DECIMAL = f"decimal({PARSE_DECIMAL_PRECISION},{PARSE_DECIMAL_SCALE})"
DATE_FORMAT = "yyyy-MM-dd"


def java_full_match(pattern: str) -> str:
    """A shared `^...$` pattern as a Java regex that `rlike` (a find) matches exactly when RE2 full-matches."""
    if not (pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")):
        raise ValueError(f"shared patterns are anchored with ^ and $: {pattern!r}")
    return "\\A(?:" + pattern[1:-1] + ")\\z"


def trim(value: Column) -> Column:
    """Trim TRIM_CHARACTERS at both ends; an absent value becomes the empty string (blank).

    `btrim(v, chars)` strips any run of the given characters at both ends, exactly what the anchored regex
    `\\A[chars]+|[chars]+\\z` replaced by "" does, at a fraction of a regex's cost per value.
    """
    return F.btrim(F.coalesce(value, F.lit("")), F.lit(TRIM_CHARACTERS))


def ascii_lower(value: Column) -> Column:
    return F.translate(value, string.ascii_uppercase, string.ascii_lowercase)


def is_blank(trimmed: Column) -> Column:
    return trimmed == F.lit("")


def matches(trimmed: Column, pattern: str) -> Column:
    return F.coalesce(trimmed.rlike(java_full_match(pattern)), F.lit(False))


def date_valid(trimmed: Column) -> Column:
    """A real calendar day written YYYY-MM-DD (years 1000-2999)."""
    return matches(trimmed, ISO_DATE_PATTERN) & F.try_to_timestamp(trimmed, F.lit(DATE_FORMAT)).isNotNull()


def date_value(trimmed: Column) -> Column:
    """The date of a `date_valid` value (null otherwise)."""
    parsed = F.try_to_timestamp(trimmed, F.lit(DATE_FORMAT)).cast("date")
    return F.when(matches(trimmed, ISO_DATE_PATTERN), parsed)


def decimal_valid(trimmed: Column) -> Column:
    return matches(trimmed, DECIMAL_2_PATTERN)


def decimal_value(trimmed: Column) -> Column:
    """The exact decimal (of the shared parse width) of a DECIMAL_2_PATTERN value (null otherwise)."""
    return F.when(decimal_valid(trimmed), trimmed.try_cast(PARSE_DECIMAL))


def id_valid(trimmed: Column) -> Column:
    return matches(trimmed, POSITIVE_ID_PATTERN)


def id_value(trimmed: Column) -> Column:
    """The bigint of a POSITIVE_ID_PATTERN value (null otherwise)."""
    return F.when(id_valid(trimmed), trimmed.try_cast("bigint"))


def canonical_enum(trimmed: Column, allowed: tuple[str, ...]) -> Column:
    """The canonical spelling of an ASCII case-insensitive member of `allowed`; null if not a member."""
    folded = ascii_lower(trimmed)
    result: Column | None = None
    for value in allowed:
        hit = folded == F.lit(value.lower())
        result = F.when(hit, F.lit(value)) if result is None else result.when(hit, F.lit(value))
    assert result is not None, "an enum column has a non-empty allowed list"
    return result


def unique_among_clean(check: NotAmongClean) -> bool:
    """True when the referenced dataset's clean rows never repeat `ref_column`: it has a RepeatedId rule on it."""
    return any(
        isinstance(r.check, RepeatedId) and r.check.column == check.ref_column for r in duplicate_rules(check.dataset)
    )


def reference_flag(check: NotAmongClean) -> str:
    """The column `prepare` adds: true when the value is among the referenced clean ids, null otherwise."""
    return f"__in_{check.dataset}_{check.ref_column}__{check.column}"


class SparkCompiler:
    """Evaluates rule checks on a frame holding each data column's trimmed text (names from `trimmed`)."""

    def __init__(
        self,
        trimmed: Mapping[str, str],
        reference_date: date,
        clean_ids: Mapping[tuple[DatasetName, str], DataFrame],
    ) -> None:
        self.trimmed = trimmed
        self.reference_date = reference_date
        self.clean_ids = clean_ids

    def column(self, name: str) -> Column:
        return F.col(self.trimmed[name])

    def prepare(self, frame: DataFrame, checks: tuple[RowCheck, ...]) -> DataFrame:
        """Add the reference flags the `NotAmongClean` checks need (broadcast left joins on the clean ids)."""
        for check in checks:
            if not isinstance(check, NotAmongClean):
                continue
            flag = reference_flag(check)
            ids = self.clean_ids[(check.dataset, check.ref_column)]
            reference = ids.select(F.col(check.ref_column).alias(f"{flag}_id"))
            if not unique_among_clean(check):  # a left join must never repeat a row
                reference = reference.distinct()
            reference = reference.withColumn(flag, F.lit(True))
            key = id_value(self.column(check.column))
            frame = frame.join(F.broadcast(reference), key == F.col(f"{flag}_id"), "left").drop(f"{flag}_id")
        return frame

    def fails(self, check: RowCheck) -> Column:
        """A boolean column, never null: true when the row fails `check`."""
        col = self.column(check.column)
        present = ~is_blank(col)
        match check:
            case Blank():
                return is_blank(col)
            case NotMatching(pattern=pattern):
                return present & ~matches(col, pattern)
            case NotCalendarDate():
                return present & ~date_valid(col)
            case AfterReferenceDate():
                return date_valid(col) & F.coalesce(date_value(col) > F.lit(self.reference_date), F.lit(False))
            case OutsideRange(low_exclusive=low, high_inclusive=high):
                value = decimal_value(col)
                inside = (value > F.lit(low)) & (value <= F.lit(high))
                return decimal_valid(col) & ~F.coalesce(inside, F.lit(False))
            case NotAllowed(allowed=allowed):
                return present & canonical_enum(col, allowed).isNull()
            case NotAmongClean():
                return id_valid(col) & F.col(reference_flag(check)).isNull()
            case _:
                assert_never(check)


_EXACT = "__exact"


class SparkDuplicateCompiler:
    """Evaluates duplicate checks on a frame of the eligible rows (those passing every row rule): each data column's
    typed value (names from `typed`) and the `order` columns, earlier = lower `order`.

    `ExactDuplicate`: an earlier row has the same typed content; `RepeatedId`: else, the same typed id. Both share
    ONE shuffle and ONE sort: rows are clustered by the ids of the `RepeatedId` checks (an exact duplicate repeats
    the id too; by the whole content when there is none) and sorted by content, then order, so the first row of a
    run of equal contents is the earliest and every later one equals the row before it (`lag`, null-safe). A row
    repeats an id when it is not the earliest of its id cluster: an unordered window on the same clustering,
    evaluated after the ordered one so it reuses its partitioning and sort.
    """

    def __init__(self, typed: Mapping[str, str], order: tuple[str, ...], checks: tuple[DuplicateCheck, ...]) -> None:
        self.values = [F.col(name) for name in typed.values()]
        self.order = [F.col(name) for name in order]
        id_columns = [c.column for c in checks if isinstance(c, RepeatedId)]
        self.cluster = [F.col(typed[c]) for c in id_columns] or self.values

    def prepare(self, frame: DataFrame) -> DataFrame:
        """Add the column the checks read: whether the row's content equals the previous row's of its cluster."""
        content = F.struct(*self.values)
        by_content = Window.partitionBy(*self.cluster).orderBy(*self.values, *self.order)
        return frame.withColumn(_EXACT, F.coalesce(F.lag(content).over(by_content).eqNullSafe(content), F.lit(False)))

    def fails(self, check: DuplicateCheck) -> Column:
        """A boolean column, never null: true when the row fails `check`."""
        match check:
            case ExactDuplicate():
                return F.col(_EXACT)
            case RepeatedId():
                earliest = F.min(F.struct(*self.order)).over(Window.partitionBy(*self.cluster))
                return (F.struct(*self.order) != earliest) & ~F.col(_EXACT)
            case _:
                assert_never(check)


def normalise(dataset: Dataset, trimmed: Mapping[str, str]) -> dict[str, Column]:
    """Typed Silver values by column name (defined for rows passing every row rule; null, never an error, else)."""
    out: dict[str, Column] = {}
    for column in dataset.columns:
        col = F.col(trimmed[column.name])
        match column.kind:
            case ColumnKind.ID:
                value = id_value(col)
            case ColumnKind.TEXT:
                value = col
            case ColumnKind.EMAIL:
                value = ascii_lower(col)
            case ColumnKind.DATE:
                value = date_value(col)
            case ColumnKind.MONEY:
                value = decimal_value(col).try_cast(f"decimal({MONEY_PRECISION},{MONEY_SCALE})")
            case ColumnKind.PERCENT:
                value = decimal_value(col).try_cast(f"decimal({PERCENT_PRECISION},{PERCENT_SCALE})")
            case ColumnKind.ENUM:
                value = canonical_enum(col, column.allowed)
            case _:
                assert_never(column.kind)
        out[column.name] = value
    return out
