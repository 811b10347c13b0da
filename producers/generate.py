"""Generate the three landing CSVs with known, exactly countable faults, and `truth.json` describing them.

    twinlake generate --rows 1000000 --seed 42 --as-of 2026-11-26 --out data/generated
    python -m producers.generate ...    # the same program

Writes `clients.csv`, `purchases.csv`, `promotions.csv` (`--rows` data rows each, header first, UTF-8, LF) and
`truth.json`. The same arguments give byte-identical files (for a given Faker version).

How rows are built (see `producers.faults` for the value catalogue):

1. A file of N rows holds B "base" rows plus N - B duplicate rows. Base row i has id i + 1. Each base row is
   clean or carries exactly one row fault (one column rewritten so that exactly one rule fails); row 0 is
   clean.
2. Some clean base rows get valid noise (whitespace, ASCII case, leading zeros on ids) in exactly one column.
3. Duplicate rows copy a clean base row and are inserted at a random place after it: an exact duplicate keeps
   the normalised content (usually verbatim, sometimes re-padded), a duplicate-id row changes the allowed-list
   column to another allowed value (so it passes every other rule and only `duplicate_id` fires).
4. Clean purchases and promotions reference clean clients only; `unknown_client` faults reference an id no
   client row uses, or the id of a client row rejected for a non-id fault.

So every rejected row has exactly one reason and `truth.json` is counted by construction:
rows_written = rows_clean + rows_rejected and rows_rejected = sum(rejected_by_rule).

Clean dates lie 1..1095 (signup) or 1..730 (purchase) days before --as-of, future dates 30..365 days after it:
the truth holds for any run whose reference date lies in `reference_date_window` (as-of - 1 .. as-of + 29).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, assert_never

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import typer

from producers import faults
from producers.csvfile import write_csv
from producers.faults import DUPLICATE_KINDS, FAULT_SPECS, FaultKind, FaultRates, FaultSpec, NoiseKind
from producers.pools import Pools, build_pools
from twinlake.cli.command import UserError, new_app, run
from twinlake.datasets import COUNTRIES, DATASETS, PRODUCTS, PROMO_NAMES, DatasetName
from twinlake.rules import OutsideRange, RuleCode, rules_for

GENERATOR_VERSION = "1"
TRUTH_FILE = "truth.json"
TRUTH_ROWS_FILE = "truth_rows.jsonl"
SIGNUP_DAYS = 3 * 365  # clean signup dates: 1..SIGNUP_DAYS days before as-of
PURCHASE_DAYS = 730  # clean purchase dates: 1..PURCHASE_DAYS days before as-of
_CLEAN = -1
_STRING = pa.string()


@dataclass(frozen=True)
class GeneratorConfig:
    rows: int = 1_000_000
    seed: int = 42
    as_of: date = field(default_factory=lambda: datetime.now(UTC).date())
    rates: FaultRates = field(default_factory=FaultRates)

    def __post_init__(self) -> None:
        if self.rows < 1:
            raise ValueError("rows must be >= 1")


@dataclass
class DatasetResult:
    """One generated file: its columns (final row order) and what was injected, for truth.json."""

    name: DatasetName
    columns: dict[str, pa.Array]
    fault_counts: dict[FaultKind, int]
    noise_counts: dict[NoiseKind, int]
    unknown_client_detail: dict[str, int] | None
    # (1-based row number, fault kind) of every rejected row, sorted by row number
    rejected_rows: list[tuple[int, FaultKind]]

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values())))


@dataclass
class _ClientRefs:
    clean_ids: np.ndarray  # ids of clean client rows
    invalid_ids: np.ndarray  # ids of client rows rejected for a fault outside client_id
    max_id: int  # no client row uses an id above this


# ---- small vectorised helpers ------------------------------------------------------------------------------


def _str(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), _STRING)


def _dates(as_of: date, days_before: np.ndarray) -> pa.Array:
    epoch_days = (as_of - date(1970, 1, 1)).days - days_before
    return pc.cast(pa.array(epoch_days.astype(np.int32), pa.date32()), _STRING)


def _money(cents: np.ndarray, drop_zero_cents: bool = False) -> pa.Array:
    whole = _str(cents // 100)
    frac = pc.utf8_lpad(_str(cents % 100), width=2, padding="0")
    text = pc.binary_join_element_wise(whole, frac, ".")
    if drop_zero_cents:
        text = pc.if_else(pa.array(cents % 100 == 0), whole, text)
    return text


def _take(pool: Sequence[str], index: np.ndarray) -> pa.Array:
    return pa.array(pool, _STRING).take(pa.array(index))


def _weights(n: int, skew: float) -> np.ndarray:
    w = 1.0 / (1.0 + skew * np.arange(n))
    return np.asarray(w / w.sum())


def _high_cents(dataset: DatasetName, column: str) -> int:
    """The rule's inclusive upper bound for a decimal column, in cents (never spelled here)."""
    for rule in rules_for(dataset):
        if isinstance(rule.check, OutsideRange) and rule.check.column == column:
            return int(rule.check.high_inclusive * 100)
    raise KeyError(f"no range rule on {dataset}.{column}")


# ---- planning: which base row gets which fault -------------------------------------------------------------


@dataclass
class _Plan:
    n_base: int
    base_fault: np.ndarray  # per base row: index into specs, or _CLEAN
    specs: tuple[FaultSpec, ...]
    counts: dict[FaultKind, int]
    clean_pos: np.ndarray  # sorted positions of clean base rows

    def positions(self, spec_index: int) -> np.ndarray:
        return np.flatnonzero(self.base_fault == spec_index)


def _plan(dataset: DatasetName, rows: int, rates: FaultRates, rng: np.random.Generator) -> _Plan:
    specs = FAULT_SPECS[dataset]
    counts = {s.kind: rates.count(s.kind, rows) for s in specs}
    n_dup = counts[FaultKind.EXACT_DUPLICATE] + counts[FaultKind.DUPLICATE_ID]
    n_base = rows - n_dup
    n_row_faults = sum(n for k, n in counts.items() if k not in DUPLICATE_KINDS)
    # row 0 stays clean, and every duplicate-id row needs its own clean source row
    if n_base < 1 or n_base - 1 - n_row_faults < counts[FaultKind.DUPLICATE_ID]:
        raise ValueError(f"{dataset}: fault rates too high for {rows} rows ({n_row_faults + n_dup} faulty rows)")
    base_fault = np.full(n_base, _CLEAN, dtype=np.int16)
    chosen = rng.permutation(n_base - 1)[:n_row_faults] + 1
    start = 0
    for index, spec in enumerate(specs):
        if spec.kind in DUPLICATE_KINDS:
            continue
        n = counts[spec.kind]
        base_fault[chosen[start : start + n]] = index
        start += n
    clean_pos = np.flatnonzero(base_fault == _CLEAN)
    return _Plan(n_base=n_base, base_fault=base_fault, specs=specs, counts=counts, clean_pos=clean_pos)


# ---- clean columns -----------------------------------------------------------------------------------------


def _clean_clients(
    n: int, pools: Pools, as_of: date, rng: np.random.Generator
) -> tuple[dict[str, pa.Array], np.ndarray]:
    size = pools.size
    country = rng.choice(len(COUNTRIES), size=n, p=_weights(len(COUNTRIES), 0.25))
    first = country * size + rng.integers(0, size, size=n)
    last = country * size + rng.integers(0, size, size=n)
    flat_first = [v for pool in pools.first_names for v in pool]
    flat_last = [v for pool in pools.last_names for v in pool]
    first_slug = [v for pool in pools.first_slugs for v in pool]
    last_slug = [v for pool in pools.last_slugs for v in pool]
    initials = [v[0] for v in first_slug]
    style = rng.integers(0, 4, size=n)
    head = pc.if_else(pa.array(style == 3), _take(initials, first), _take(first_slug, first))
    sep = _take((".", "_", "", ""), style)
    suffix_n = rng.integers(1, 1000, size=n)
    suffix = pc.if_else(pa.array(rng.random(n) < 0.4), _str(suffix_n), pa.scalar("", _STRING))
    domain = _take(pools.email_domains, rng.integers(0, len(pools.email_domains), size=n))
    columns = {
        "client_id": _str(np.arange(1, n + 1)),
        "name": pc.binary_join_element_wise(_take(flat_first, first), _take(flat_last, last), " "),
        "email": pc.binary_join_element_wise(head, sep, _take(last_slug, last), suffix, "@", domain, ""),
        "signup_date": _dates(as_of, rng.integers(1, SIGNUP_DAYS + 1, size=n)),
        "country": _take(COUNTRIES, country),
    }
    return columns, country


def _amount_cents(n: int, high: int, rng: np.random.Generator) -> np.ndarray:
    cents = np.round(np.exp(rng.normal(np.log(60.0), 1.1, size=n)) * 100).astype(np.int64)
    cents = np.clip(cents, 1, high)
    edge = rng.random(n)
    cents[edge < 0.0005] = 1  # the smallest valid amount
    cents[(edge >= 0.0005) & (edge < 0.001)] = high  # the largest valid amount
    return cents


def _clean_purchases(
    n: int, refs: _ClientRefs, as_of: date, rng: np.random.Generator
) -> tuple[dict[str, pa.Array], np.ndarray, np.ndarray, np.ndarray]:
    client = refs.clean_ids[rng.integers(0, len(refs.clean_ids), size=n)]
    cents = _amount_cents(n, _high_cents(DatasetName.PURCHASES, "amount"), rng)
    product = rng.choice(len(PRODUCTS), size=n, p=_weights(len(PRODUCTS), 0.35))
    columns = {
        "purchase_id": _str(np.arange(1, n + 1)),
        "client_id": _str(client),
        "purchase_date": _dates(as_of, rng.integers(1, PURCHASE_DAYS + 1, size=n)),
        "amount": _money(cents),
        "product": _take(PRODUCTS, product),
    }
    return columns, product, client, cents


def _clean_promotions(
    n: int, refs: _ClientRefs, rng: np.random.Generator
) -> tuple[dict[str, pa.Array], np.ndarray, np.ndarray, np.ndarray]:
    client = refs.clean_ids[rng.integers(0, len(refs.clean_ids), size=n)]
    name = rng.choice(len(PROMO_NAMES), size=n, p=_weights(len(PROMO_NAMES), 0.3))
    high = _high_cents(DatasetName.PROMOTIONS, "promo_value")
    # the percentage in the promo's name (WELCOME10 -> 10) when it has one and fits, else a random value
    digits = ["".join(ch for ch in p if ch.isascii() and ch.isdigit()) for p in PROMO_NAMES]
    named = np.array([int(d) * 100 if d and 0 < int(d) * 100 <= high else 0 for d in digits], dtype=np.int64)
    cents = named[name]
    random_value = (cents == 0) | (rng.random(n) < 0.2)
    cents = np.where(random_value, rng.integers(1, high + 1, size=n), cents)
    cents[rng.random(n) < 0.001] = high  # 100 exactly is valid (the interval is closed above)
    columns = {
        "promo_id": _str(np.arange(1, n + 1)),
        "client_id": _str(client),
        "promo_name": _take(PROMO_NAMES, name),
        "promo_value": _money(cents, drop_zero_cents=True),
    }
    return columns, name, client, cents


@dataclass(frozen=True)
class _CleanRows:
    """A dataset's clean base rows, and what its faults and duplicates are made from."""

    columns: dict[str, pa.Array]
    category: np.ndarray  # per row: index of its allowed-list value
    client_ids: np.ndarray | None = None  # purchases, promotions: the referenced client ids
    cents: np.ndarray | None = None  # purchases, promotions: the decimal column in cents


def _clean_rows(
    dataset: DatasetName, n: int, pools: Pools, refs: _ClientRefs | None, as_of: date, rng: np.random.Generator
) -> _CleanRows:
    match dataset:
        case DatasetName.CLIENTS:
            return _CleanRows(*_clean_clients(n, pools, as_of, rng))
        case DatasetName.PURCHASES:
            assert refs is not None
            return _CleanRows(*_clean_purchases(n, refs, as_of, rng))
        case DatasetName.PROMOTIONS:
            assert refs is not None
            return _CleanRows(*_clean_promotions(n, refs, rng))
        case _:
            assert_never(dataset)


# ---- faults, noise, duplicates -----------------------------------------------------------------------------


class _Edits:
    """Replacement values per column, applied in one pass per column."""

    def __init__(self) -> None:
        self._by_column: dict[str, list[tuple[np.ndarray, list[str]]]] = {}

    def add(self, column: str, positions: np.ndarray, values: list[str]) -> None:
        if len(positions) != len(values):
            raise AssertionError("one value per position")
        if len(positions):
            self._by_column.setdefault(column, []).append((positions, values))

    def apply(self, columns: dict[str, pa.Array]) -> dict[str, pa.Array]:
        out = dict(columns)
        for column, parts in self._by_column.items():
            positions = np.concatenate([p for p, _ in parts])
            values = np.array([v for _, vs in parts for v in vs], dtype=object)
            if len(np.unique(positions)) != len(positions):
                raise AssertionError(f"two edits of one cell in {column}")
            order = np.argsort(positions, kind="stable")
            mask = np.zeros(len(columns[column]), dtype=bool)
            mask[positions] = True
            out[column] = pc.replace_with_mask(columns[column], pa.array(mask), pa.array(values[order], _STRING))
        return out


def _column_values(columns: dict[str, pa.Array], column: str, positions: np.ndarray) -> list[str]:
    return [str(v) for v in columns[column].take(pa.array(positions)).to_pylist()]


@dataclass(frozen=True)
class _FaultSite:
    """Where one row-fault kind goes: the clean rows at `positions` of one column, and what its values need."""

    dataset: DatasetName
    column: str
    positions: np.ndarray
    clean: _CleanRows
    refs: _ClientRefs | None
    as_of: date

    @property
    def n(self) -> int:
        return len(self.positions)

    def originals(self) -> list[str]:
        return _column_values(self.clean.columns, self.column, self.positions)

    def original_cents(self) -> list[int]:
        assert self.clean.cents is not None
        return [int(c) for c in self.clean.cents[self.positions]]

    def client_refs(self) -> _ClientRefs:
        assert self.refs is not None
        return self.refs


# Faulty values for `site.n` rows, and (for the unknown-client kinds) how many are of which sort.
_FaultValues = tuple[list[str], dict[str, int]]


def _blank_values(site: _FaultSite, rng: np.random.Generator) -> _FaultValues:
    return faults.blanks(rng, site.n), {}


def _invalid_id_values(site: _FaultSite, rng: np.random.Generator) -> _FaultValues:
    return faults.invalid_ids(rng, [int(p) + 1 for p in site.positions]), {}


def _invalid_client_ref_values(site: _FaultSite, rng: np.random.Generator) -> _FaultValues:
    assert site.clean.client_ids is not None
    return faults.invalid_ids(rng, [int(c) for c in site.clean.client_ids[site.positions]]), {}


def _nonexistent_client_values(site: _FaultSite, rng: np.random.Generator) -> _FaultValues:
    refs = site.client_refs()
    ids = refs.max_id + 1 + rng.integers(0, max(refs.max_id, 1000), size=site.n)
    return [str(int(i)) for i in ids], {"nonexistent": site.n}


def _invalid_client_values(site: _FaultSite, rng: np.random.Generator) -> _FaultValues:
    """The id of a client row rejected for a non-id fault; an absent id when there is no such row."""
    refs = site.client_refs()
    if not len(refs.invalid_ids):
        return _nonexistent_client_values(site, rng)
    ids = refs.invalid_ids[rng.integers(0, len(refs.invalid_ids), size=site.n)]
    return [str(int(i)) for i in ids], {"invalid_client": site.n}


def _invalid_email_values(site: _FaultSite, rng: np.random.Generator) -> _FaultValues:
    return faults.invalid_emails(rng, site.originals()), {}


def _invalid_date_values(site: _FaultSite, rng: np.random.Generator) -> _FaultValues:
    return faults.invalid_dates(rng, site.originals()), {}


def _future_date_values(site: _FaultSite, rng: np.random.Generator) -> _FaultValues:
    return faults.future_dates(rng, site.as_of, site.n), {}


def _unknown_category_values(site: _FaultSite, rng: np.random.Generator) -> _FaultValues:
    return faults.unknown_values(rng, site.column, site.n), {}


def _non_numeric_decimal_values(site: _FaultSite, rng: np.random.Generator) -> _FaultValues:
    return faults.non_numeric_decimals(rng, site.original_cents()), {}


def _three_decimals_values(site: _FaultSite, rng: np.random.Generator) -> _FaultValues:
    return faults.three_decimals(rng, site.original_cents()), {}


def _negative_decimal_values(site: _FaultSite, rng: np.random.Generator) -> _FaultValues:
    return faults.negative_decimals(site.original_cents()), {}


def _zero_decimal_values(site: _FaultSite, rng: np.random.Generator) -> _FaultValues:
    return faults.zero_decimals(rng, site.n), {}


def _decimal_above_max_values(site: _FaultSite, rng: np.random.Generator) -> _FaultValues:
    return faults.above_max_decimals(rng, _high_cents(site.dataset, site.column), site.n), {}


# How each row-fault kind rewrites its column; duplicates are copies of rows instead (`_with_duplicates`).
ROW_FAULT_VALUES: dict[FaultKind, Callable[[_FaultSite, np.random.Generator], _FaultValues]] = {
    **dict.fromkeys(sorted(faults.BLANK_KINDS), _blank_values),
    FaultKind.INVALID_ID: _invalid_id_values,
    FaultKind.INVALID_CLIENT_REF: _invalid_client_ref_values,
    FaultKind.NONEXISTENT_CLIENT: _nonexistent_client_values,
    FaultKind.INVALID_CLIENT: _invalid_client_values,
    FaultKind.INVALID_EMAIL: _invalid_email_values,
    FaultKind.INVALID_DATE: _invalid_date_values,
    FaultKind.FUTURE_DATE: _future_date_values,
    FaultKind.UNKNOWN_CATEGORY: _unknown_category_values,
    FaultKind.NON_NUMERIC_DECIMAL: _non_numeric_decimal_values,
    FaultKind.THREE_DECIMALS: _three_decimals_values,
    FaultKind.NEGATIVE_DECIMAL: _negative_decimal_values,
    FaultKind.ZERO_DECIMAL: _zero_decimal_values,
    FaultKind.DECIMAL_ABOVE_MAX: _decimal_above_max_values,
}
if set(ROW_FAULT_VALUES) != set(FaultKind) - DUPLICATE_KINDS:  # every kind is either a row fault or a duplicate
    raise AssertionError(
        f"row-fault kinds without values: {sorted(set(FaultKind) - DUPLICATE_KINDS - set(ROW_FAULT_VALUES))}"
    )

# How each kind of valid noise rewrites a value.
NOISE_VALUES: dict[NoiseKind, Callable[[np.random.Generator, list[str]], list[str]]] = {
    NoiseKind.WHITESPACE: faults.pad,
    NoiseKind.CASE: faults.recase,
    NoiseKind.LEADING_ZEROS: faults.leading_zeros,
}
if set(NOISE_VALUES) != set(NoiseKind):
    raise AssertionError(f"noise kinds without values: {sorted(set(NoiseKind) - set(NOISE_VALUES))}")


def _row_faults(
    dataset: DatasetName, plan: _Plan, clean: _CleanRows, refs: _ClientRefs | None, as_of: date, edits: _Edits,
    rng: np.random.Generator,
) -> dict[str, int]:  # fmt: skip
    """Rewrite one column of every row the plan gives a row fault; how many unknown clients are of which sort."""
    detail: dict[str, int] = {"nonexistent": 0, "invalid_client": 0}
    for index, spec in enumerate(plan.specs):
        if spec.kind in DUPLICATE_KINDS:
            continue
        assert spec.column is not None
        site = _FaultSite(dataset, spec.column, plan.positions(index), clean, refs, as_of)
        values, more = ROW_FAULT_VALUES[spec.kind](site, rng)
        edits.add(spec.column, site.positions, values)
        for key, value in more.items():
            detail[key] += value
    return detail


def _noise(
    dataset: DatasetName, plan: _Plan, rates: FaultRates, columns: dict[str, pa.Array], edits: _Edits,
    rng: np.random.Generator,
) -> dict[NoiseKind, int]:  # fmt: skip
    """Valid noise on distinct clean rows, one noise kind in one column per row."""
    targets: dict[NoiseKind, tuple[str, ...]] = {
        NoiseKind.WHITESPACE: DATASETS[dataset].column_names,
        NoiseKind.CASE: faults.case_columns(dataset),
        NoiseKind.LEADING_ZEROS: faults.id_columns(dataset),
    }
    rows = len(plan.clean_pos)
    wanted = _noise_count(rates, rows)
    available = rows - 1  # keep row 0 plain
    shuffled = plan.clean_pos[1:][rng.permutation(max(available, 0))]
    counts: dict[NoiseKind, int] = {}
    start = 0
    for kind in NoiseKind:
        n = min(wanted, len(shuffled) - start)
        chosen = np.sort(shuffled[start : start + n])
        start += n
        counts[kind] = n
        cols = targets[kind]
        which = rng.integers(0, len(cols), size=n)
        for ci, column in enumerate(cols):
            positions = chosen[which == ci]
            edits.add(column, positions, NOISE_VALUES[kind](rng, _column_values(columns, column, positions)))
    return counts


def _noise_count(rates: FaultRates, rows: int) -> int:
    n = round(rates.noise_rate * rows)
    if rates.noise_rate > 0 and rows >= 1000:
        n = max(n, 1)
    return n


@dataclass(frozen=True)
class _Duplicated:
    """A dataset's rows with its duplicates inserted: the columns, and where each row came from."""

    columns: dict[str, pa.Array]
    order: np.ndarray  # final row -> index into base rows followed by duplicate rows
    kinds: list[FaultKind]  # the fault of each duplicate row, in the order they were made


def _with_duplicates(
    dataset: DatasetName, plan: _Plan, base: dict[str, pa.Array], category: np.ndarray, rng: np.random.Generator
) -> _Duplicated:
    """Copies of clean base rows, each inserted somewhere after its source."""
    n = plan.n_base
    allowed = DATASETS[dataset].column(faults.category_column(dataset)).allowed
    cat_col = faults.category_column(dataset)
    n_exact = plan.counts[FaultKind.EXACT_DUPLICATE]
    n_dup_id = plan.counts[FaultKind.DUPLICATE_ID]
    # Duplicate-id sources are distinct, and never also copied verbatim: every id shared by several rows is
    # shared either by a source and its exact copies or by a source and one duplicate-id row, so each
    # duplicate row fails exactly one of `duplicate` / `duplicate_id` under any reading of the two checks.
    shuffled = rng.permutation(plan.clean_pos)
    dup_id_src = np.sort(shuffled[:n_dup_id])
    exact_pool = shuffled[n_dup_id:]
    exact_src = exact_pool[rng.integers(0, len(exact_pool), size=n_exact)] if n_exact else exact_pool[:0]
    sources = np.concatenate([exact_src, dup_id_src]).astype(np.int64)
    dup_kinds = [FaultKind.EXACT_DUPLICATE] * n_exact + [FaultKind.DUPLICATE_ID] * n_dup_id
    dup_cols = {c: a.take(pa.array(sources)) for c, a in base.items()}
    dup_edits = _Edits()
    # a quarter of the exact duplicates differ in text (padded allowed-list value), not in normalised content
    repad = np.flatnonzero(rng.random(n_exact) < 0.25)
    dup_edits.add(cat_col, repad, [f" {v} " for v in _column_values(dup_cols, cat_col, repad)])
    other = (category[dup_id_src] + 1 + rng.integers(0, len(allowed) - 1, size=n_dup_id)) % len(allowed)
    dup_edits.add(cat_col, np.arange(n_exact, n_exact + n_dup_id), [allowed[i] for i in other])
    dup_cols = dup_edits.apply(dup_cols)

    gaps = sources + 1 + np.floor(rng.random(len(sources)) * (n - sources)).astype(np.int64)
    keys = np.concatenate([2 * np.arange(n, dtype=np.int64) + 1, 2 * gaps])
    order = np.argsort(keys, kind="stable")
    final = {c: pa.concat_arrays([base[c], dup_cols[c]]).take(pa.array(order)) for c in DATASETS[dataset].column_names}
    return _Duplicated(columns=final, order=order, kinds=dup_kinds)


def _rejected_rows(plan: _Plan, rows: _Duplicated) -> list[tuple[int, FaultKind]]:
    """(1-based row number, fault kind) of every rejected row, sorted by row number."""
    row_of = np.empty(len(rows.order), dtype=np.int64)
    row_of[rows.order] = np.arange(1, len(rows.order) + 1)
    rejected: list[tuple[int, FaultKind]] = []
    for index, spec in enumerate(plan.specs):
        if spec.kind not in DUPLICATE_KINDS:
            rejected.extend((int(r), spec.kind) for r in row_of[plan.positions(index)])
    rejected.extend((int(r), k) for r, k in zip(row_of[plan.n_base :], rows.kinds, strict=True))
    rejected.sort()
    return rejected


def _build(
    dataset: DatasetName,
    config: GeneratorConfig,
    pools: Pools,
    refs: _ClientRefs | None,
    rng: np.random.Generator,
) -> tuple[DatasetResult, _Plan]:
    plan = _plan(dataset, config.rows, config.rates, rng)
    clean = _clean_rows(dataset, plan.n_base, pools, refs, config.as_of, rng)
    edits = _Edits()
    detail = _row_faults(dataset, plan, clean, refs, config.as_of, edits, rng)
    noise_counts = _noise(dataset, plan, config.rates, clean.columns, edits, rng)
    rows = _with_duplicates(dataset, plan, edits.apply(clean.columns), clean.category, rng)
    result = DatasetResult(
        name=dataset,
        columns=rows.columns,
        fault_counts=dict(plan.counts),
        noise_counts=noise_counts,
        unknown_client_detail=None if dataset is DatasetName.CLIENTS else detail,
        rejected_rows=_rejected_rows(plan, rows),
    )
    return result, plan


def _client_refs(plan: _Plan) -> _ClientRefs:
    id_faults = {FaultKind.MISSING_ID, FaultKind.INVALID_ID}
    invalid_specs = [i for i, s in enumerate(plan.specs) if s.kind not in id_faults | DUPLICATE_KINDS]
    invalid = np.flatnonzero(np.isin(plan.base_fault, invalid_specs))
    return _ClientRefs(clean_ids=plan.clean_pos + 1, invalid_ids=invalid + 1, max_id=plan.n_base)


def generate(config: GeneratorConfig) -> list[DatasetResult]:
    """Build the three datasets in memory (clients first: the others reference its clean rows)."""
    seeds = np.random.SeedSequence(config.seed).spawn(len(DatasetName))
    pools = build_pools(config.seed)
    results: list[DatasetResult] = []
    refs: _ClientRefs | None = None
    for dataset, seed in zip(DatasetName, seeds, strict=True):
        result, plan = _build(dataset, config, pools, refs, np.random.default_rng(seed))
        if dataset is DatasetName.CLIENTS:
            refs = _client_refs(plan)
        results.append(result)
    return results


# ---- truth -------------------------------------------------------------------------------------------------


def truth(config: GeneratorConfig, results: Sequence[DatasetResult]) -> dict[str, Any]:
    """truth.json content, by construction (each rejected row has exactly one rule code)."""
    datasets: dict[str, Any] = {}
    for r in results:
        by_rule: dict[str, int] = {str(rule.code): 0 for rule in rules_for(r.name)}
        for spec in FAULT_SPECS[r.name]:
            by_rule[str(spec.rule)] += r.fault_counts[spec.kind]
        rejected = sum(by_rule.values())
        entry: dict[str, Any] = {
            "rows_written": r.rows,
            "rows_clean": r.rows - rejected,
            "rows_rejected": rejected,
            "rejected_by_rule": by_rule,
            "noise_valid": {str(k): v for k, v in r.noise_counts.items()},
            "faults_by_kind": {str(s.kind): r.fault_counts[s.kind] for s in FAULT_SPECS[r.name]},
        }
        if r.unknown_client_detail is not None:
            entry["unknown_client_detail"] = dict(r.unknown_client_detail)
            assert sum(r.unknown_client_detail.values()) == by_rule[str(RuleCode.UNKNOWN_CLIENT)]
        assert len(r.rejected_rows) == rejected
        datasets[str(r.name)] = entry
    return {
        "generator": {
            "version": GENERATOR_VERSION,
            "seed": config.seed,
            "rows": config.rows,
            "as_of": config.as_of.isoformat(),
            "fault_rates": config.rates.as_dict(),
            "noise_rate": config.rates.noise_rate,
            "reference_date_window": {
                "earliest": (config.as_of - timedelta(days=1)).isoformat(),
                "latest": (config.as_of + timedelta(days=29)).isoformat(),
            },
        },
        "datasets": datasets,
    }


def write(config: GeneratorConfig, out: Path, truth_rows: bool = False) -> dict[str, Any]:
    """Generate and write the CSVs and truth.json into `out`; returns the truth."""
    out.mkdir(parents=True, exist_ok=True)
    results = generate(config)
    for r in results:
        names = DATASETS[r.name].column_names
        write_csv(out / f"{r.name}.csv", names, [r.columns[c] for c in names])
    content = truth(config, results)
    (out / TRUTH_FILE).write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    if truth_rows:
        with (out / TRUTH_ROWS_FILE).open("w", encoding="utf-8") as fh:
            for r in results:
                rule = {s.kind: s.rule for s in FAULT_SPECS[r.name]}
                for row, kind in r.rejected_rows:
                    record = {"dataset": str(r.name), "row": row, "rule": str(rule[kind]), "fault": str(kind)}
                    fh.write(json.dumps(record) + "\n")
    return content


# ---- CLI ----------------------------------------------------------------------------------------------------


def _kinds_help() -> str:
    """Each fault kind and the rule codes it trips, from the fault catalogue."""
    rules: dict[FaultKind, list[str]] = {}
    for specs in FAULT_SPECS.values():
        for spec in specs:
            rules.setdefault(spec.kind, [])
            if str(spec.rule) not in rules[spec.kind]:
                rules[spec.kind].append(str(spec.rule))
    return "\n".join(f"- {kind}: {', '.join(rules.get(kind, []))}" for kind in FaultKind)


def _parse_override(text: str) -> tuple[FaultKind, float]:
    kind, sep, value = text.partition("=")
    try:
        if not sep:
            raise ValueError(text)
        return FaultKind(kind.strip()), float(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{text!r} is not KIND=RATE with a fault kind ({', '.join(k.value for k in FaultKind)}) and a number"
        ) from exc


app = new_app()


@app.command(
    "generate",
    help=f"""Generate the three landing CSVs with known faults, and truth.json counting them exactly.

Writes clients.csv, purchases.csv and promotions.csv (ROWS data rows each, a header, UTF-8) and truth.json into
OUT. The same arguments give the same bytes. Every fault kind is injected at --fault-rate unless --rate sets its
own rate; each faulty row fails exactly one rule, so truth.json holds the rows each rule must reject.

Fault kinds for --rate, and the rule codes each one trips:
{_kinds_help()}
""",
)
def generate_files(
    rows: Annotated[int, typer.Option("--rows", min=1, metavar="ROWS", help="Data rows per file.")] = 1_000_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 42,
    as_of: Annotated[
        str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="Reference day; default today (UTC).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("data/generated"),
    fault_rate: Annotated[
        float, typer.Option("--fault-rate", help="Rate of each fault kind.")
    ] = faults.DEFAULT_FAULT_RATE,
    noise_rate: Annotated[
        float, typer.Option("--noise-rate", help="Rate of each kind of valid noise (spaces, case, zeros).")
    ] = faults.DEFAULT_NOISE_RATE,
    rate: Annotated[
        list[str] | None,
        typer.Option("--rate", metavar="KIND=RATE", help="One fault kind's own rate (repeatable); kinds below."),
    ] = None,
    truth_rows: Annotated[
        bool, typer.Option("--truth-rows", help=f"Also write {TRUTH_ROWS_FILE}: every rejected row and its rule.")
    ] = False,
) -> None:
    try:
        day = date.fromisoformat(as_of) if as_of else datetime.now(UTC).date()
    except ValueError as exc:
        raise typer.BadParameter(f"{as_of!r} is not a day written YYYY-MM-DD", param_hint="--as-of") from exc
    overrides = dict(_parse_override(text) for text in rate or [])
    try:
        rates = FaultRates.uniform(fault_rate, noise_rate, overrides)
        config = GeneratorConfig(rows=rows, seed=seed, as_of=day, rates=rates)
        started = time.perf_counter()
        content = write(config, out, truth_rows=truth_rows)
    except ValueError as exc:  # rates outside [0, 1), or too high for so few rows
        raise UserError(str(exc), "lower --fault-rate / --rate, or raise --rows") from exc
    elapsed = time.perf_counter() - started
    for name, entry in content["datasets"].items():
        print(
            f"{name:<11} {entry['rows_written']:>10,} rows  {entry['rows_clean']:>10,} clean  "
            f"{entry['rows_rejected']:>8,} rejected  -> {out / (name + '.csv')}"
        )
    print(f"truth: {out / TRUTH_FILE}  ({elapsed:.1f} s)", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    return run(app, argv, prog_name="python -m producers.generate")


if __name__ == "__main__":
    raise SystemExit(main())
