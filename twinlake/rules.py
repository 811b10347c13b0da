"""Silver validation rules, declared once as data and compiled by each engine.

A rule is a stable code plus one *check*: a small frozen node that says when a row FAILS. A `RowRule` holds a
`RowCheck` (read from the row alone), a `DuplicateRule` a `DuplicateCheck` (the row against earlier rows). Engines
never spell a rule; they compile both kinds of nodes (`jobs/pandas_engine/compiler.py`,
`jobs/spark_engine/compiler.py`) into per-row "fails" expressions, so a rejected row keeps every reason it has.

Semantics shared by both engines (their tests hold them to it):
- Every check reads the TRIMMED text of one column (trim removes `TRIM_CHARACTERS` at both ends).
- Checks on one column are mutually exclusive: `Blank` fires on an empty value, `NotMatching` / `NotCalendarDate`
  / `NotAllowed` only on a non-empty one, and the range / reference checks only on a value that parsed.
- Patterns use the regex subset on which RE2 (pyarrow), java.util.regex (Spark) and Python `re` agree: explicit
  ASCII classes, no `\\s` or `\\d` (they differ on Unicode between the three).
- Case-insensitive means ASCII case folding (A-Z <-> a-z) in both engines, never locale-aware lowering.
- The duplicate checks run last, among the rows that pass every other rule, ordered by (source key, row number).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from twinlake.datasets import CLIENTS, PROMOTIONS, PURCHASES, Dataset, DatasetName

# Whitespace removed around every value before it is checked (space, tab, LF, VT, FF, CR).
TRIM_CHARACTERS = " \t\n\x0b\f\r"
_WS = r" \t\n\x0B\f\r"
# 1 .. 10^18-1 with optional leading zeros: always fits a signed 64-bit integer.
POSITIVE_ID_PATTERN = r"^0*[1-9][0-9]{0,17}$"
EMAIL_PATTERN = rf"^[^@{_WS}]+@[^@{_WS}]+\.[^@{_WS}]+$"
# ISO calendar date in years 1000-2999; the calendar check (no 2026-02-30) is NotCalendarDate's job.
ISO_DATE_PATTERN = r"^[12][0-9]{3}-[0-9]{2}-[0-9]{2}$"
# A decimal with at most two places (negative values parse, and then fail the range check).
DECIMAL_2_PATTERN = r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$"


class RuleCode(StrEnum):
    """Stable rule codes: they appear in rejected rows, manifests and the data_quality table. Never rename."""

    MISSING_CLIENT_ID = "missing_client_id"
    INVALID_CLIENT_ID = "invalid_client_id"
    MISSING_NAME = "missing_name"
    MISSING_EMAIL = "missing_email"
    INVALID_EMAIL = "invalid_email"
    MISSING_SIGNUP_DATE = "missing_signup_date"
    INVALID_SIGNUP_DATE = "invalid_signup_date"
    FUTURE_SIGNUP_DATE = "future_signup_date"
    MISSING_COUNTRY = "missing_country"
    UNKNOWN_COUNTRY = "unknown_country"
    MISSING_PURCHASE_ID = "missing_purchase_id"
    INVALID_PURCHASE_ID = "invalid_purchase_id"
    UNKNOWN_CLIENT = "unknown_client"
    MISSING_PURCHASE_DATE = "missing_purchase_date"
    INVALID_PURCHASE_DATE = "invalid_purchase_date"
    FUTURE_PURCHASE_DATE = "future_purchase_date"
    MISSING_AMOUNT = "missing_amount"
    INVALID_AMOUNT = "invalid_amount"
    AMOUNT_OUT_OF_RANGE = "amount_out_of_range"
    MISSING_PRODUCT = "missing_product"
    UNKNOWN_PRODUCT = "unknown_product"
    MISSING_PROMO_ID = "missing_promo_id"
    INVALID_PROMO_ID = "invalid_promo_id"
    MISSING_PROMO_NAME = "missing_promo_name"
    UNKNOWN_PROMO_NAME = "unknown_promo_name"
    MISSING_PROMO_VALUE = "missing_promo_value"
    INVALID_PROMO_VALUE = "invalid_promo_value"
    PROMO_VALUE_OUT_OF_RANGE = "promo_value_out_of_range"
    DUPLICATE = "duplicate"
    DUPLICATE_ID = "duplicate_id"


# ---- check nodes: each one says when a row FAILS -------------------------------------------------------------


@dataclass(frozen=True)
class Blank:
    """The value is absent or empty after trimming."""

    column: str


@dataclass(frozen=True)
class NotMatching:
    """The value is present and does not match `pattern` (whole value)."""

    column: str
    pattern: str


@dataclass(frozen=True)
class NotCalendarDate:
    """The value is present and is not an existing calendar day written as ISO_DATE_PATTERN."""

    column: str


@dataclass(frozen=True)
class AfterReferenceDate:
    """The value is a valid date strictly after the run's reference date."""

    column: str


@dataclass(frozen=True)
class OutsideRange:
    """The value is a valid DECIMAL_2_PATTERN number not in the half-open interval (low, high]."""

    column: str
    low_exclusive: Decimal
    high_inclusive: Decimal


@dataclass(frozen=True)
class NotAllowed:
    """The value is present and, ASCII case-insensitively, not one of `allowed`."""

    column: str
    allowed: tuple[str, ...]


@dataclass(frozen=True)
class NotAmongClean:
    """The value is a valid id that no clean row of `dataset` has in `ref_column`."""

    column: str
    dataset: DatasetName
    ref_column: str


@dataclass(frozen=True)
class ExactDuplicate:
    """An earlier valid row has the same normalised content."""


@dataclass(frozen=True)
class RepeatedId:
    """An earlier valid row has the same normalised `column` (and the content differs: else ExactDuplicate)."""

    column: str


RowCheck = Blank | NotMatching | NotCalendarDate | AfterReferenceDate | OutsideRange | NotAllowed | NotAmongClean
DuplicateCheck = ExactDuplicate | RepeatedId
Check = RowCheck | DuplicateCheck


@dataclass(frozen=True)
class RowRule:
    """A stable code and the check that makes one row of `dataset` fail it, read from that row alone."""

    code: RuleCode
    dataset: DatasetName
    check: RowCheck

    is_duplicate_rule: ClassVar[bool] = False


@dataclass(frozen=True)
class DuplicateRule:
    """A stable code and the check that makes a row of `dataset` fail it by repeating an earlier row; checked
    last, among the rows that pass every row rule."""

    code: RuleCode
    dataset: DatasetName
    check: DuplicateCheck

    is_duplicate_rule: ClassVar[bool] = True


Rule = RowRule | DuplicateRule


def _id(ds: DatasetName, column: str, missing: RuleCode, invalid: RuleCode) -> tuple[Rule, ...]:
    return (RowRule(missing, ds, Blank(column)), RowRule(invalid, ds, NotMatching(column, POSITIVE_ID_PATTERN)))


def _date(ds: DatasetName, column: str, codes: tuple[RuleCode, RuleCode, RuleCode]) -> tuple[Rule, ...]:
    missing, invalid, future = codes
    return (
        RowRule(missing, ds, Blank(column)),
        RowRule(invalid, ds, NotCalendarDate(column)),
        RowRule(future, ds, AfterReferenceDate(column)),
    )


def _decimal(
    ds: DatasetName, column: str, codes: tuple[RuleCode, RuleCode, RuleCode], high: Decimal
) -> tuple[Rule, ...]:
    missing, invalid, out_of_range = codes
    return (
        RowRule(missing, ds, Blank(column)),
        RowRule(invalid, ds, NotMatching(column, DECIMAL_2_PATTERN)),
        RowRule(out_of_range, ds, OutsideRange(column, Decimal(0), high)),
    )


def _enum(ds: Dataset, column: str, missing: RuleCode, unknown: RuleCode) -> tuple[Rule, ...]:
    allowed = ds.column(column).allowed
    return (RowRule(missing, ds.name, Blank(column)), RowRule(unknown, ds.name, NotAllowed(column, allowed)))


def _duplicates(ds: Dataset) -> tuple[Rule, ...]:
    return (
        DuplicateRule(RuleCode.DUPLICATE, ds.name, ExactDuplicate()),
        DuplicateRule(RuleCode.DUPLICATE_ID, ds.name, RepeatedId(ds.id_column)),
    )


def _client_reference(ds: DatasetName) -> tuple[Rule, ...]:
    return (
        *_id(ds, "client_id", RuleCode.MISSING_CLIENT_ID, RuleCode.INVALID_CLIENT_ID),
        RowRule(RuleCode.UNKNOWN_CLIENT, ds, NotAmongClean("client_id", DatasetName.CLIENTS, "client_id")),
    )


RULES: dict[DatasetName, tuple[Rule, ...]] = {
    DatasetName.CLIENTS: (
        *_id(CLIENTS.name, "client_id", RuleCode.MISSING_CLIENT_ID, RuleCode.INVALID_CLIENT_ID),
        RowRule(RuleCode.MISSING_NAME, CLIENTS.name, Blank("name")),
        RowRule(RuleCode.MISSING_EMAIL, CLIENTS.name, Blank("email")),
        RowRule(RuleCode.INVALID_EMAIL, CLIENTS.name, NotMatching("email", EMAIL_PATTERN)),
        *_date(
            CLIENTS.name,
            "signup_date",
            (RuleCode.MISSING_SIGNUP_DATE, RuleCode.INVALID_SIGNUP_DATE, RuleCode.FUTURE_SIGNUP_DATE),
        ),
        *_enum(CLIENTS, "country", RuleCode.MISSING_COUNTRY, RuleCode.UNKNOWN_COUNTRY),
        *_duplicates(CLIENTS),
    ),
    DatasetName.PURCHASES: (
        *_id(PURCHASES.name, "purchase_id", RuleCode.MISSING_PURCHASE_ID, RuleCode.INVALID_PURCHASE_ID),
        *_client_reference(PURCHASES.name),
        *_date(
            PURCHASES.name,
            "purchase_date",
            (RuleCode.MISSING_PURCHASE_DATE, RuleCode.INVALID_PURCHASE_DATE, RuleCode.FUTURE_PURCHASE_DATE),
        ),
        *_decimal(
            PURCHASES.name,
            "amount",
            (RuleCode.MISSING_AMOUNT, RuleCode.INVALID_AMOUNT, RuleCode.AMOUNT_OUT_OF_RANGE),
            Decimal("5000"),
        ),
        *_enum(PURCHASES, "product", RuleCode.MISSING_PRODUCT, RuleCode.UNKNOWN_PRODUCT),
        *_duplicates(PURCHASES),
    ),
    DatasetName.PROMOTIONS: (
        *_id(PROMOTIONS.name, "promo_id", RuleCode.MISSING_PROMO_ID, RuleCode.INVALID_PROMO_ID),
        *_client_reference(PROMOTIONS.name),
        *_enum(PROMOTIONS, "promo_name", RuleCode.MISSING_PROMO_NAME, RuleCode.UNKNOWN_PROMO_NAME),
        *_decimal(
            PROMOTIONS.name,
            "promo_value",
            (RuleCode.MISSING_PROMO_VALUE, RuleCode.INVALID_PROMO_VALUE, RuleCode.PROMO_VALUE_OUT_OF_RANGE),
            Decimal("100"),
        ),
        *_duplicates(PROMOTIONS),
    ),
}


def rules_for(dataset: DatasetName) -> tuple[Rule, ...]:
    """The rules of one dataset, in the order their codes are listed in a rejected row."""
    return RULES[dataset]


def row_rules(dataset: DatasetName) -> tuple[RowRule, ...]:
    """The dataset's row rules, in rule order."""
    return tuple(r for r in RULES[dataset] if isinstance(r, RowRule))


def duplicate_rules(dataset: DatasetName) -> tuple[DuplicateRule, ...]:
    """The dataset's duplicate rules, in rule order."""
    return tuple(r for r in RULES[dataset] if isinstance(r, DuplicateRule))
