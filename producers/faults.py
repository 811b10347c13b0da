"""Fault and noise catalogue of the generator: what can be wrong with a row, and which rule code it trips.

Every injected fault touches exactly ONE column of an otherwise clean row (or, for the two duplicate kinds,
copies a clean row), and every value it writes is chosen so that the row fails exactly one rule of
`twinlake.rules`:

- blanks are empty or whitespace-only, so only `Blank` fires on that column;
- malformed values are non-blank and fail the column's pattern / calendar / allowed-list check;
- range faults are well-formed decimals outside (0, high], so only `OutsideRange` fires;
- reference faults are well-formed ids that no clean client has.

Noise (`NoiseKind`) changes the text of a clean row but not its normalised value, so the row stays clean.

The tables here name no allowed value and no pattern of their own beyond a handful of deliberately *wrong*
values; the allowed lists come from `twinlake.datasets` and the semantics from `twinlake.rules`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

import numpy as np

from twinlake.datasets import DATASETS, ColumnKind, DatasetName
from twinlake.rules import RuleCode


class FaultKind(StrEnum):
    """One way a row can be wrong. Each kind applies to the datasets that have the column it corrupts."""

    MISSING_ID = "missing_id"  # the dataset's own id column is blank
    INVALID_ID = "invalid_id"  # ... is not a positive integer
    MISSING_CLIENT_REF = "missing_client_ref"  # purchases/promotions: client_id blank
    INVALID_CLIENT_REF = "invalid_client_ref"  # purchases/promotions: client_id not a positive integer
    NONEXISTENT_CLIENT = "nonexistent_client"  # purchases/promotions: client_id used by no client row
    INVALID_CLIENT = "invalid_client"  # purchases/promotions: client_id of a client row rejected for another fault
    MISSING_NAME = "missing_name"
    MISSING_EMAIL = "missing_email"
    INVALID_EMAIL = "invalid_email"
    MISSING_DATE = "missing_date"  # signup_date / purchase_date
    INVALID_DATE = "invalid_date"  # not a real ISO calendar day
    FUTURE_DATE = "future_date"  # as-of + 30..365 days
    MISSING_CATEGORY = "missing_category"  # country / product / promo_name blank
    UNKNOWN_CATEGORY = "unknown_category"  # ... not in the allowed list
    MISSING_DECIMAL = "missing_decimal"  # amount / promo_value blank
    NON_NUMERIC_DECIMAL = "non_numeric_decimal"  # ... not a decimal at all ('abc', '12,50', '+5', '1e3')
    THREE_DECIMALS = "three_decimals"  # ... a decimal with 3 places ('12.345', '12.500')
    NEGATIVE_DECIMAL = "negative_decimal"  # ... below zero
    ZERO_DECIMAL = "zero_decimal"  # ... exactly zero ('0', '0.00', '-0')
    DECIMAL_ABOVE_MAX = "decimal_above_max"  # ... above 5000 (amount) / 100 (promo_value)
    EXACT_DUPLICATE = "exact_duplicate"  # a later copy of a clean row (same normalised content)
    DUPLICATE_ID = "duplicate_id"  # a later row reusing a clean row's id with different valid content


class NoiseKind(StrEnum):
    """Valid-after-normalisation noise on a clean row (the row stays clean)."""

    WHITESPACE = "whitespace"  # spaces / tabs around one value
    CASE = "case"  # ASCII case change of an email or allowed-list value
    LEADING_ZEROS = "leading_zeros"  # '00042' for id 42


DUPLICATE_KINDS = frozenset({FaultKind.EXACT_DUPLICATE, FaultKind.DUPLICATE_ID})
# Kinds that blank one column.
BLANK_KINDS = frozenset(
    {
        FaultKind.MISSING_ID,
        FaultKind.MISSING_CLIENT_REF,
        FaultKind.MISSING_NAME,
        FaultKind.MISSING_EMAIL,
        FaultKind.MISSING_DATE,
        FaultKind.MISSING_CATEGORY,
        FaultKind.MISSING_DECIMAL,
    }
)


@dataclass(frozen=True)
class FaultSpec:
    """A fault kind as it applies to one dataset: the column it writes and the one rule it trips."""

    kind: FaultKind
    column: str | None  # None for the duplicate kinds (whole-row copies)
    rule: RuleCode


def _specs() -> dict[DatasetName, tuple[FaultSpec, ...]]:
    K, R = FaultKind, RuleCode
    common_ref = (
        FaultSpec(K.MISSING_CLIENT_REF, "client_id", R.MISSING_CLIENT_ID),
        FaultSpec(K.INVALID_CLIENT_REF, "client_id", R.INVALID_CLIENT_ID),
        FaultSpec(K.NONEXISTENT_CLIENT, "client_id", R.UNKNOWN_CLIENT),
        FaultSpec(K.INVALID_CLIENT, "client_id", R.UNKNOWN_CLIENT),
    )
    dups = (
        FaultSpec(K.EXACT_DUPLICATE, None, R.DUPLICATE),
        FaultSpec(K.DUPLICATE_ID, None, R.DUPLICATE_ID),
    )
    return {
        DatasetName.CLIENTS: (
            FaultSpec(K.MISSING_ID, "client_id", R.MISSING_CLIENT_ID),
            FaultSpec(K.INVALID_ID, "client_id", R.INVALID_CLIENT_ID),
            FaultSpec(K.MISSING_NAME, "name", R.MISSING_NAME),
            FaultSpec(K.MISSING_EMAIL, "email", R.MISSING_EMAIL),
            FaultSpec(K.INVALID_EMAIL, "email", R.INVALID_EMAIL),
            FaultSpec(K.MISSING_DATE, "signup_date", R.MISSING_SIGNUP_DATE),
            FaultSpec(K.INVALID_DATE, "signup_date", R.INVALID_SIGNUP_DATE),
            FaultSpec(K.FUTURE_DATE, "signup_date", R.FUTURE_SIGNUP_DATE),
            FaultSpec(K.MISSING_CATEGORY, "country", R.MISSING_COUNTRY),
            FaultSpec(K.UNKNOWN_CATEGORY, "country", R.UNKNOWN_COUNTRY),
            *dups,
        ),
        DatasetName.PURCHASES: (
            FaultSpec(K.MISSING_ID, "purchase_id", R.MISSING_PURCHASE_ID),
            FaultSpec(K.INVALID_ID, "purchase_id", R.INVALID_PURCHASE_ID),
            *common_ref,
            FaultSpec(K.MISSING_DATE, "purchase_date", R.MISSING_PURCHASE_DATE),
            FaultSpec(K.INVALID_DATE, "purchase_date", R.INVALID_PURCHASE_DATE),
            FaultSpec(K.FUTURE_DATE, "purchase_date", R.FUTURE_PURCHASE_DATE),
            FaultSpec(K.MISSING_DECIMAL, "amount", R.MISSING_AMOUNT),
            FaultSpec(K.NON_NUMERIC_DECIMAL, "amount", R.INVALID_AMOUNT),
            FaultSpec(K.THREE_DECIMALS, "amount", R.INVALID_AMOUNT),
            FaultSpec(K.NEGATIVE_DECIMAL, "amount", R.AMOUNT_OUT_OF_RANGE),
            FaultSpec(K.ZERO_DECIMAL, "amount", R.AMOUNT_OUT_OF_RANGE),
            FaultSpec(K.DECIMAL_ABOVE_MAX, "amount", R.AMOUNT_OUT_OF_RANGE),
            FaultSpec(K.MISSING_CATEGORY, "product", R.MISSING_PRODUCT),
            FaultSpec(K.UNKNOWN_CATEGORY, "product", R.UNKNOWN_PRODUCT),
            *dups,
        ),
        DatasetName.PROMOTIONS: (
            FaultSpec(K.MISSING_ID, "promo_id", R.MISSING_PROMO_ID),
            FaultSpec(K.INVALID_ID, "promo_id", R.INVALID_PROMO_ID),
            *common_ref,
            FaultSpec(K.MISSING_CATEGORY, "promo_name", R.MISSING_PROMO_NAME),
            FaultSpec(K.UNKNOWN_CATEGORY, "promo_name", R.UNKNOWN_PROMO_NAME),
            FaultSpec(K.MISSING_DECIMAL, "promo_value", R.MISSING_PROMO_VALUE),
            FaultSpec(K.NON_NUMERIC_DECIMAL, "promo_value", R.INVALID_PROMO_VALUE),
            FaultSpec(K.THREE_DECIMALS, "promo_value", R.INVALID_PROMO_VALUE),
            FaultSpec(K.NEGATIVE_DECIMAL, "promo_value", R.PROMO_VALUE_OUT_OF_RANGE),
            FaultSpec(K.ZERO_DECIMAL, "promo_value", R.PROMO_VALUE_OUT_OF_RANGE),
            FaultSpec(K.DECIMAL_ABOVE_MAX, "promo_value", R.PROMO_VALUE_OUT_OF_RANGE),
            *dups,
        ),
    }


FAULT_SPECS: dict[DatasetName, tuple[FaultSpec, ...]] = _specs()

DEFAULT_FAULT_RATE = 0.002
DEFAULT_NOISE_RATE = 0.01


@dataclass(frozen=True)
class FaultRates:
    """Per-kind fault rates (fraction of a dataset's rows), plus the per-kind rate of valid noise."""

    rates: Mapping[FaultKind, float] = field(default_factory=lambda: dict.fromkeys(FaultKind, DEFAULT_FAULT_RATE))
    noise_rate: float = DEFAULT_NOISE_RATE

    @classmethod
    def uniform(
        cls,
        rate: float = DEFAULT_FAULT_RATE,
        noise_rate: float = DEFAULT_NOISE_RATE,
        overrides: Mapping[FaultKind, float] | None = None,
    ) -> FaultRates:
        rates = dict.fromkeys(FaultKind, rate)
        rates.update(overrides or {})
        return cls(rates=rates, noise_rate=noise_rate)

    def __post_init__(self) -> None:
        for kind, value in self.rates.items():
            if not 0.0 <= value < 1.0:
                raise ValueError(f"fault rate {kind}={value} is not in [0, 1)")
        if not 0.0 <= self.noise_rate < 1.0:
            raise ValueError(f"noise rate {self.noise_rate} is not in [0, 1)")

    def rate(self, kind: FaultKind) -> float:
        return float(self.rates.get(kind, 0.0))

    def count(self, kind: FaultKind, rows: int) -> int:
        """Rows of this kind in a file of `rows` rows: at least one when the rate is > 0 and rows >= 1000."""
        rate = self.rate(kind)
        n = round(rate * rows)
        if rate > 0 and rows >= 1000:
            n = max(n, 1)
        return n

    def as_dict(self) -> dict[str, float]:
        return {str(k): self.rate(k) for k in FaultKind}


# ---- deliberately wrong values -----------------------------------------------------------------------------
# None of these is blank, and none is an allowed value under ASCII case folding after trimming. Two are traps
# for engines that do more than the rules say: U+00A0 (no-break space) is NOT a trim character, and U+212A
# (Kelvin sign) lower-cases to 'k' under Unicode rules but is not ASCII, so neither value is allowed.
UNKNOWN_VALUES: dict[str, tuple[str, ...]] = {
    "country": (
        "Atlantis",
        "Deutschland",
        "UK",
        "Frankreich",
        "Espana",
        "Itlay",
        "France\u00a0",
        "Luxembourg",
    ),
    "product": ("Toaster", "Laptops", "Smart Phone", "Drone", "Lap-top", "Tablet Pro", "Monitor\u00a0"),
    "promo_name": ("WELCOME100", "SUMMER 15", "CYBERMONDAY", "VIP-25", "BLAC\u212aFRIDAY20", "FREE_SHIP"),
}
# Blank after trimming `twinlake.rules.TRIM_CHARACTERS`.
BLANKS: tuple[str, ...] = ("", "", "", "   ", "\t")


def _pick(rng: np.random.Generator, options: tuple[str, ...], n: int) -> list[str]:
    return [options[i] for i in rng.integers(0, len(options), size=n)]


def blanks(rng: np.random.Generator, n: int) -> list[str]:
    return _pick(rng, BLANKS, n)


def invalid_ids(rng: np.random.Generator, ids: list[int]) -> list[str]:
    """Non-blank texts failing POSITIVE_ID_PATTERN (zero, sign, decimals, letters, 19 digits, inner space)."""
    makers: tuple[Callable[[int], str], ...] = (
        lambda n: f"C{n}",
        lambda n: f"{n}a",
        lambda n: f"{n}.0",
        lambda n: f"-{n}",
        lambda n: "0",
        lambda n: "000",
        lambda n: f"{n} {n % 10}",
        lambda n: str(10**18 + n),  # 19 significant digits: would overflow the 18-digit limit
        lambda n: f"#{n}",
        lambda n: "abc",
        lambda n: f"{n}e2",
        lambda n: f"+{n}",
    )
    choice = rng.integers(0, len(makers), size=len(ids))
    return [makers[c](n) for c, n in zip(choice, ids, strict=True)]


def invalid_emails(rng: np.random.Generator, emails: list[str]) -> list[str]:
    """Non-blank texts failing EMAIL_PATTERN: no '@', two '@', no dot after '@', inner space, empty parts."""
    makers: tuple[Callable[[str, str], str], ...] = (
        lambda local, dom: f"{local}.{dom}",
        lambda local, dom: f"{local}@@{dom}",
        lambda local, dom: f"{local}@{dom.split('.')[0]}",
        lambda local, dom: f"{local} x@{dom}",
        lambda local, dom: f"@{dom}",
        lambda local, dom: f"{local}@",
        lambda local, dom: f"{local}@{dom.replace('.', ' .')}",
    )
    choice = rng.integers(0, len(makers), size=len(emails))
    out = []
    for c, email in zip(choice, emails, strict=True):
        local, _, dom = email.partition("@")
        out.append(makers[c](local, dom))
    return out


def invalid_dates(rng: np.random.Generator, dates: list[str]) -> list[str]:
    """Non-blank texts that are not a real ISO calendar day in 1000-2999."""
    makers: tuple[Callable[[date], str], ...] = (
        lambda d: f"{d.year}-13-45",
        lambda d: f"{d:%d/%m/%Y}",
        lambda d: "yesterday",
        lambda d: f"{d.year}-02-30",
        lambda d: f"{d.year}-04-31",
        lambda d: f"{d:%Y%m%d}",
        lambda d: f"{d:%Y/%m/%d}",
        lambda d: f"{d:%Y-%m-%d}T10:00:00",
        lambda d: "2023-02-29",
        lambda d: f"0999-{d:%m-%d}",
        lambda d: f"3000-{d:%m-%d}",
        lambda d: f"{d.year}-00-10",
    )
    choice = rng.integers(0, len(makers), size=len(dates))
    return [makers[c](date.fromisoformat(s)) for c, s in zip(choice, dates, strict=True)]


def future_dates(rng: np.random.Generator, as_of: date, n: int) -> list[str]:
    """Real days strictly after as-of + 29 (so a run up to 29 days later still sees them as future)."""
    offsets = rng.integers(30, 366, size=n)
    return [(as_of + timedelta(days=int(o))).isoformat() for o in offsets]


def unknown_values(rng: np.random.Generator, column: str, n: int) -> list[str]:
    return _pick(rng, UNKNOWN_VALUES[column], n)


def _fmt_cents(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def non_numeric_decimals(rng: np.random.Generator, cents: list[int]) -> list[str]:
    """Non-blank texts that fail DECIMAL_2_PATTERN although many a lenient parser would read them."""
    makers: tuple[Callable[[int], str], ...] = (
        lambda c: "abc",
        lambda c: f"{c // 100},{c % 100:02d}",  # decimal comma (quoted in the CSV)
        lambda c: f"\u20ac{_fmt_cents(c)}",
        lambda c: f"{_fmt_cents(c)} EUR",
        lambda c: "N/A",
        lambda c: "NaN",
        lambda c: f"+{_fmt_cents(c)}",
        lambda c: f".{c % 100:02d}",
        lambda c: f"{c // 100}.",
        lambda c: "1e3",
        lambda c: f"{_fmt_cents(c)}.1",
        lambda c: "12345678901234",  # 14 integer digits: more than the 13 the pattern allows
    )
    choice = rng.integers(0, len(makers), size=len(cents))
    return [makers[k](c) for k, c in zip(choice, cents, strict=True)]


def three_decimals(rng: np.random.Generator, cents: list[int]) -> list[str]:
    """A third decimal place, sometimes a zero ('12.500' is as invalid as '12.505')."""
    digit = rng.integers(0, 10, size=len(cents))
    return [f"{_fmt_cents(c)}{d}" for c, d in zip(cents, digit, strict=True)]


def negative_decimals(cents: list[int]) -> list[str]:
    return [_fmt_cents(-c) for c in cents]


def zero_decimals(rng: np.random.Generator, n: int) -> list[str]:
    return _pick(rng, ("0", "0.00", "0.0", "-0", "00.00", "-0.00"), n)


def above_max_decimals(rng: np.random.Generator, high_cents: int, n: int) -> list[str]:
    """Just above the maximum (high + 0.01) or well above it (up to 10x)."""
    extra = rng.integers(1, 9 * high_cents, size=n)
    extra[rng.random(n) < 0.25] = 1
    return [_fmt_cents(high_cents + int(e)) for e in extra]


# ---- valid noise -------------------------------------------------------------------------------------------
_PADS: tuple[tuple[str, str], ...] = ((" ", ""), ("", " "), (" ", " "), ("  ", "\t"), ("\t", ""), ("", "   "))


def pad(rng: np.random.Generator, values: list[str]) -> list[str]:
    """Surround with trim characters (space and tab only: CR/LF would need quoting and multi-line readers)."""
    choice = rng.integers(0, len(_PADS), size=len(values))
    return [f"{_PADS[c][0]}{v}{_PADS[c][1]}" for c, v in zip(choice, values, strict=True)]


_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def recase(rng: np.random.Generator, values: list[str]) -> list[str]:
    """An ASCII case change that always alters the text: upper, lower or alternating, whichever differs."""
    out = []
    for style, v in zip(rng.integers(0, 3, size=len(values)), values, strict=True):
        candidates = (
            v.translate(_ASCII_UPPER),
            v.translate(_ASCII_LOWER),
            "".join(ch.translate(_ASCII_UPPER if i % 2 else _ASCII_LOWER) for i, ch in enumerate(v)),
        )
        ordered = candidates[style:] + candidates[:style]
        out.append(next((c for c in ordered if c != v), v))
    return out


def leading_zeros(rng: np.random.Generator, values: list[str]) -> list[str]:
    widths = rng.integers(1, 4, size=len(values))
    return ["0" * int(w) + v for w, v in zip(widths, values, strict=True)]


def case_columns(dataset: DatasetName) -> tuple[str, ...]:
    """Columns whose normalised value ignores ASCII case (emails and allowed-list values)."""
    return tuple(c.name for c in DATASETS[dataset].columns if c.kind in (ColumnKind.EMAIL, ColumnKind.ENUM))


def id_columns(dataset: DatasetName) -> tuple[str, ...]:
    return tuple(c.name for c in DATASETS[dataset].columns if c.kind is ColumnKind.ID)


def category_column(dataset: DatasetName) -> str:
    """The dataset's (single) allowed-list column."""
    (name,) = (c.name for c in DATASETS[dataset].columns if c.kind is ColumnKind.ENUM)
    return name


def decimal_column(dataset: DatasetName) -> str | None:
    names = [c.name for c in DATASETS[dataset].columns if c.kind in (ColumnKind.MONEY, ColumnKind.PERCENT)]
    return names[0] if names else None
