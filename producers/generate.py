"""Generate the three landing CSVs with known, exactly countable faults, and `truth.json` describing them.

    python -m producers.generate --rows 1000000 --seed 42 --as-of 2026-11-26 --out data/generated

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

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from producers import faults as F
from producers.csvfile import write_csv
from producers.faults import DUPLICATE_KINDS, FAULT_SPECS, FaultKind, FaultRates, FaultSpec, NoiseKind
from producers.pools import Pools, build_pools
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


def _row_fault_values(
    spec: FaultSpec,
    dataset: DatasetName,
    positions: np.ndarray,
    columns: dict[str, pa.Array],
    cents: np.ndarray | None,
    client_ids: np.ndarray | None,
    refs: _ClientRefs | None,
    as_of: date,
    rng: np.random.Generator,
) -> tuple[list[str], dict[str, int]]:
    """Values for one row-fault kind at `positions`, and (for unknown_client) how many are of which sort."""
    K = FaultKind
    n = len(positions)
    column = spec.column
    assert column is not None
    detail: dict[str, int] = {}
    if spec.kind in F.BLANK_KINDS:
        return F.blanks(rng, n), detail
    if spec.kind is K.INVALID_ID:
        return F.invalid_ids(rng, [int(p) + 1 for p in positions]), detail
    if spec.kind is K.INVALID_CLIENT_REF:
        assert client_ids is not None
        return F.invalid_ids(rng, [int(c) for c in client_ids[positions]]), detail
    if spec.kind in (K.NONEXISTENT_CLIENT, K.INVALID_CLIENT):
        assert refs is not None
        # an invalid client needs a client row rejected for a non-id fault; else fall back to an absent id
        if spec.kind is K.INVALID_CLIENT and len(refs.invalid_ids):
            ids = refs.invalid_ids[rng.integers(0, len(refs.invalid_ids), size=n)]
            detail = {"invalid_client": n}
        else:
            ids = refs.max_id + 1 + rng.integers(0, max(refs.max_id, 1000), size=n)
            detail = {"nonexistent": n}
        return [str(int(i)) for i in ids], detail
    if spec.kind is K.INVALID_EMAIL:
        return F.invalid_emails(rng, _column_values(columns, column, positions)), detail
    if spec.kind is K.INVALID_DATE:
        return F.invalid_dates(rng, _column_values(columns, column, positions)), detail
    if spec.kind is K.FUTURE_DATE:
        return F.future_dates(rng, as_of, n), detail
    if spec.kind is K.UNKNOWN_CATEGORY:
        return F.unknown_values(rng, column, n), detail
    assert cents is not None
    originals = [int(c) for c in cents[positions]]
    if spec.kind is K.NON_NUMERIC_DECIMAL:
        return F.non_numeric_decimals(rng, originals), detail
    if spec.kind is K.THREE_DECIMALS:
        return F.three_decimals(rng, originals), detail
    if spec.kind is K.NEGATIVE_DECIMAL:
        return F.negative_decimals(originals), detail
    if spec.kind is K.ZERO_DECIMAL:
        return F.zero_decimals(rng, n), detail
    if spec.kind is K.DECIMAL_ABOVE_MAX:
        return F.above_max_decimals(rng, _high_cents(dataset, column), n), detail
    raise AssertionError(f"unhandled fault kind {spec.kind}")


def _noise(
    dataset: DatasetName, plan: _Plan, rates: FaultRates, columns: dict[str, pa.Array], edits: _Edits,
    rng: np.random.Generator,
) -> dict[NoiseKind, int]:  # fmt: skip
    """Valid noise on distinct clean rows, one noise kind in one column per row."""
    targets: dict[NoiseKind, tuple[str, ...]] = {
        NoiseKind.WHITESPACE: DATASETS[dataset].column_names,
        NoiseKind.CASE: F.case_columns(dataset),
        NoiseKind.LEADING_ZEROS: F.id_columns(dataset),
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
            originals = _column_values(columns, column, positions)
            if kind is NoiseKind.WHITESPACE:
                values = F.pad(rng, originals)
            elif kind is NoiseKind.CASE:
                values = F.recase(rng, originals)
            else:
                values = F.leading_zeros(rng, originals)
            edits.add(column, positions, values)
    return counts


def _noise_count(rates: FaultRates, rows: int) -> int:
    n = round(rates.noise_rate * rows)
    if rates.noise_rate > 0 and rows >= 1000:
        n = max(n, 1)
    return n


def _build(
    dataset: DatasetName,
    config: GeneratorConfig,
    pools: Pools,
    refs: _ClientRefs | None,
    rng: np.random.Generator,
) -> tuple[DatasetResult, _Plan]:
    plan = _plan(dataset, config.rows, config.rates, rng)
    n = plan.n_base
    cents: np.ndarray | None = None
    client_ids: np.ndarray | None = None
    if dataset is DatasetName.CLIENTS:
        columns, category = _clean_clients(n, pools, config.as_of, rng)
    elif dataset is DatasetName.PURCHASES:
        assert refs is not None
        columns, category, client_ids, cents = _clean_purchases(n, refs, config.as_of, rng)
    else:
        assert refs is not None
        columns, category, client_ids, cents = _clean_promotions(n, refs, rng)

    edits = _Edits()
    detail: dict[str, int] = {"nonexistent": 0, "invalid_client": 0}
    for index, spec in enumerate(plan.specs):
        if spec.kind in DUPLICATE_KINDS:
            continue
        positions = plan.positions(index)
        values, more = _row_fault_values(spec, dataset, positions, columns, cents, client_ids, refs, config.as_of, rng)
        assert spec.column is not None
        edits.add(spec.column, positions, values)
        for key, value in more.items():
            detail[key] += value
    noise_counts = _noise(dataset, plan, config.rates, columns, edits, rng)
    base = edits.apply(columns)

    # duplicates: copies of clean base rows, each inserted somewhere after its source
    allowed = DATASETS[dataset].column(F.category_column(dataset)).allowed
    cat_col = F.category_column(dataset)
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

    # 1-based row number of every rejected row
    row_of = np.empty(len(order), dtype=np.int64)
    row_of[order] = np.arange(1, len(order) + 1)
    rejected: list[tuple[int, FaultKind]] = []
    for index, spec in enumerate(plan.specs):
        if spec.kind not in DUPLICATE_KINDS:
            rejected.extend((int(r), spec.kind) for r in row_of[plan.positions(index)])
    rejected.extend((int(r), k) for r, k in zip(row_of[n:], dup_kinds, strict=True))
    rejected.sort()

    result = DatasetResult(
        name=dataset,
        columns=final,
        fault_counts=dict(plan.counts),
        noise_counts=noise_counts,
        unknown_client_detail=None if dataset is DatasetName.CLIENTS else detail,
        rejected_rows=rejected,
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


# ---- CLI ---------------------------------------------------------------------------------------------------


def _parse_override(text: str) -> tuple[FaultKind, float]:
    kind, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected KIND=RATE, got {text!r}")
    try:
        return FaultKind(kind.strip()), float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r}: kinds are {', '.join(k.value for k in FaultKind)}; rate is a number"
        ) from exc


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="twinlake-generate", description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="data rows per file (default 1000000)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--as-of", type=date.fromisoformat, default=None, help="reference day (default: today UTC)")
    p.add_argument("--out", type=Path, default=Path("data/generated"), help="output folder")
    p.add_argument("--fault-rate", type=float, default=F.DEFAULT_FAULT_RATE, help="rate of EACH fault kind")
    p.add_argument("--noise-rate", type=float, default=F.DEFAULT_NOISE_RATE, help="rate of EACH noise kind")
    p.add_argument(
        "--rate", type=_parse_override, action="append", default=[], metavar="KIND=RATE",
        help="override one fault kind's rate (repeatable)",
    )  # fmt: skip
    p.add_argument("--truth-rows", action="store_true", help=f"also write {TRUTH_ROWS_FILE} (rejected rows)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    rates = FaultRates.uniform(args.fault_rate, args.noise_rate, dict(args.rate))
    config = GeneratorConfig(rows=args.rows, seed=args.seed, as_of=args.as_of or datetime.now(UTC).date(), rates=rates)
    started = time.perf_counter()
    content = write(config, args.out, truth_rows=args.truth_rows)
    elapsed = time.perf_counter() - started
    for name, entry in content["datasets"].items():
        print(
            f"{name:<11} {entry['rows_written']:>10,} rows  {entry['rows_clean']:>10,} clean  "
            f"{entry['rows_rejected']:>8,} rejected  -> {args.out / (name + '.csv')}"
        )
    print(f"truth: {args.out / TRUTH_FILE}  ({elapsed:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
