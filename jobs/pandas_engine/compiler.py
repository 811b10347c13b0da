"""Compiles the shared rule checks (`twinlake.rules`) and column kinds into vectorised pandas operations.

Frames hold pyarrow-backed strings (`pd.ArrowDtype(pa.string())`); where pandas has no Arrow-native method for an
operation the contract pins down exactly (ASCII-only case folding, RE2 full matches), we call pyarrow.compute on
the column's Arrow array, which is what pandas itself does under the hood. Every function returns one value per
row; nothing loops over rows in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar, assert_never

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
)
from twinlake.schema import PARSE_DECIMAL_PRECISION, PARSE_DECIMAL_SCALE

Mask = npt.NDArray[np.bool_]
_T = TypeVar("_T")
STRING = pd.ArrowDtype(pa.string())
_PARSE_DECIMAL = pa.decimal128(PARSE_DECIMAL_PRECISION, PARSE_DECIMAL_SCALE)


def arrow(series: pd.Series) -> pa.Array:
    """The Arrow array behind a pyarrow-backed Series (one chunk)."""
    return pa.array(series.array)


def mask(values: pa.Array | pa.ChunkedArray) -> Mask:
    """An Arrow boolean array as a numpy mask, nulls counted as False."""
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def trim(series: pd.Series) -> pd.Series:
    """Trim TRIM_CHARACTERS at both ends; absent values become empty strings (blank)."""
    trimmed = pc.utf8_trim(pc.fill_null(arrow(series), ""), characters=TRIM_CHARACTERS)
    return pd.Series(trimmed, index=series.index, dtype=STRING)


def ascii_lower(series: pd.Series) -> pd.Series:
    return pd.Series(pc.ascii_lower(arrow(series)), index=series.index, dtype=STRING)


def is_blank(trimmed: pd.Series) -> Mask:
    return mask(pc.equal(arrow(trimmed), ""))


def matches(trimmed: pd.Series, pattern: str) -> Mask:
    return mask(pc.match_substring_regex(arrow(trimmed), pattern))


def parse_dates(trimmed: pd.Series) -> tuple[Mask, npt.NDArray[np.datetime64]]:
    """Which values are real calendar days written YYYY-MM-DD (years 1000-2999), and their dates.

    The calendar check is done on the integer parts (proleptic Gregorian, as Spark does), so an impossible day
    like 2026-02-30 is invalid instead of silently rolling over.
    """
    text = arrow(trimmed)
    shaped = matches(trimmed, ISO_DATE_PATTERN)
    padded = pc.if_else(pa.array(shaped), text, "1970-01-01")
    year = pc.cast(pc.utf8_slice_codeunits(padded, 0, 4), pa.int32()).to_numpy()
    month = pc.cast(pc.utf8_slice_codeunits(padded, 5, 7), pa.int32()).to_numpy()
    day = pc.cast(pc.utf8_slice_codeunits(padded, 8, 10), pa.int32()).to_numpy()
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month, 1, 12) - 1]
    month_days = month_days + ((month == 2) & leap)
    valid = shaped & (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
    days = _days_from_civil(np.where(valid, year, 1970), np.where(valid, month, 1), np.where(valid, day, 1))
    return valid, days.astype("datetime64[D]")


def _days_from_civil(year: npt.NDArray[np.int32], month: npt.NDArray[np.int32], day: npt.NDArray[np.int32]) -> Any:
    """Days since 1970-01-01 of valid proleptic Gregorian dates, in integer arithmetic (H. Hinnant's algorithm)."""
    y = year.astype(np.int64) - (month <= 2)
    era = np.floor_divide(y, 400)
    year_of_era = y - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def parse_decimal_cents(trimmed: pd.Series) -> tuple[Mask, npt.NDArray[np.int64]]:
    """Which values are DECIMAL_2_PATTERN numbers, and their exact value in hundredths (integer cents)."""
    valid = matches(trimmed, DECIMAL_2_PATTERN)
    safe = pc.if_else(pa.array(valid), arrow(trimmed), "0")
    cents = pc.cast(pc.multiply(pc.cast(safe, _PARSE_DECIMAL), pa.scalar(100, pa.decimal128(3, 0))), pa.int64())
    return valid, np.asarray(cents.to_numpy(), dtype=np.int64)


def parse_ids(trimmed: pd.Series) -> tuple[Mask, npt.NDArray[np.int64]]:
    """Which values are POSITIVE_ID_PATTERN ids, and their int64 value (0 where invalid)."""
    valid = matches(trimmed, POSITIVE_ID_PATTERN)
    safe = pc.if_else(pa.array(valid), arrow(trimmed), "0")
    return valid, np.asarray(pc.cast(safe, pa.int64()).to_numpy(), dtype=np.int64)


def canonical_enum(trimmed: pd.Series, allowed: tuple[str, ...]) -> tuple[Mask, pa.Array]:
    """Which values are, ASCII case-insensitively, in `allowed`, and their canonical spelling (null if not)."""
    position = pc.index_in(pc.ascii_lower(arrow(trimmed)), value_set=pa.array([a.lower() for a in allowed]))
    return mask(pc.is_valid(position)), pc.take(pa.array(allowed), position)


class PandasCompiler:
    """Evaluates rule checks on one dataset's trimmed frame; each check gives a per-row "fails" mask."""

    def __init__(
        self,
        trimmed: pd.DataFrame,
        reference_date: date,
        clean_ids: Mapping[tuple[DatasetName, str], npt.NDArray[np.int64]],
    ) -> None:
        self.trimmed = trimmed
        self.reference_date = np.datetime64(reference_date, "D")
        self.clean_ids = clean_ids
        self._parsed: dict[tuple[Callable[..., Any], str], Any] = {}

    def parsed(self, parse: Callable[[pd.Series], _T], column: str) -> _T:
        """`parse(column)`, computed once per column: several checks and the typed values share it."""
        key = (parse, column)
        if key not in self._parsed:
            self._parsed[key] = parse(self.trimmed[column])
        result: _T = self._parsed[key]
        return result

    def fails(self, check: RowCheck) -> Mask:
        col = self.trimmed[check.column]
        present = ~self.parsed(is_blank, check.column)
        match check:
            case Blank():
                return ~present
            case NotMatching(pattern=pattern):
                return present & ~matches(col, pattern)
            case NotCalendarDate():
                return present & ~self.parsed(parse_dates, check.column)[0]
            case AfterReferenceDate():
                valid, days = self.parsed(parse_dates, check.column)
                return valid & (days > self.reference_date)
            case OutsideRange(low_exclusive=low, high_inclusive=high):
                valid, cents = self.parsed(parse_decimal_cents, check.column)
                return valid & ~((cents > int(low * 100)) & (cents <= int(high * 100)))
            case NotAllowed(allowed=allowed):
                return present & ~canonical_enum(col, allowed)[0]
            case NotAmongClean(dataset=ref, ref_column=ref_column):
                valid, ids = self.parsed(parse_ids, check.column)
                return valid & ~np.isin(ids, self.clean_ids[(ref, ref_column)])
            case _:
                assert_never(check)

    def normalise(self, dataset: Dataset) -> pd.DataFrame:
        """Typed Silver values of rows that passed every row rule (undefined, but never an error, for other rows)."""
        out: dict[str, pd.Series] = {}
        for column in dataset.columns:
            col = self.trimmed[column.name]
            match column.kind:
                case ColumnKind.ID:
                    values: pa.Array = pa.array(self.parsed(parse_ids, column.name)[1], pa.int64())
                case ColumnKind.TEXT:
                    values = arrow(col)
                case ColumnKind.EMAIL:
                    values = pc.ascii_lower(arrow(col))
                case ColumnKind.DATE:
                    values = pa.array(self.parsed(parse_dates, column.name)[1], pa.date32())
                case ColumnKind.MONEY:
                    values = _cents_to_decimal(
                        self.parsed(parse_decimal_cents, column.name)[1], MONEY_PRECISION, MONEY_SCALE
                    )
                case ColumnKind.PERCENT:
                    values = _cents_to_decimal(
                        self.parsed(parse_decimal_cents, column.name)[1], PERCENT_PRECISION, PERCENT_SCALE
                    )
                case ColumnKind.ENUM:
                    values = canonical_enum(col, column.allowed)[1]
                case _:
                    assert_never(column.kind)
            out[column.name] = pd.Series(values, index=self.trimmed.index, dtype=pd.ArrowDtype(values.type))
        return pd.DataFrame(out, index=self.trimmed.index)


class PandasDuplicateCompiler:
    """Evaluates duplicate checks among the `eligible` rows (those passing every row rule) of one dataset's typed
    values, earlier = lower (source key, row number): the rows are already in that order.

    `ExactDuplicate`: an earlier eligible row has the same typed content. `RepeatedId`: otherwise, an earlier
    eligible row has the same typed `column`. Rows that are not eligible never fail a duplicate check.
    """

    def __init__(self, typed: pd.DataFrame, eligible: Mask) -> None:
        self.candidates = typed[eligible]
        self.eligible = eligible
        self.exact = np.zeros(len(typed), dtype=bool)
        self.exact[eligible] = self.candidates.duplicated(keep="first").to_numpy()

    def fails(self, check: DuplicateCheck) -> Mask:
        match check:
            case ExactDuplicate():
                return self.exact
            case RepeatedId(column=column):
                repeated = np.zeros(len(self.eligible), dtype=bool)
                repeated[self.eligible] = self.candidates.duplicated(subset=[column], keep="first").to_numpy()
                only_id: Mask = repeated & ~self.exact
                return only_id
            case _:
                assert_never(check)


def _cents_to_decimal(cents: npt.NDArray[np.int64], precision: int, scale: int) -> pa.Array:
    """Exact int cents -> decimal(precision, scale); out-of-range values (invalid rows) are clamped to 0."""
    limit = 10 ** (precision - scale) * 100
    safe = np.where(np.abs(cents) < limit, cents, 0)
    as_decimal = pc.cast(pa.array(safe, pa.int64()), pa.decimal128(19, 0))
    scaled = pc.divide(as_decimal, pa.scalar(100, pa.decimal128(3, 0)))
    return pc.cast(scaled, pa.decimal128(precision, scale))
