"""Spark Silver on the shared hand-made rule cases (`tests/rule_cases.py`) and on adversarial random frames,
held to the Pandas engine's results: the same fate (clean, or rejected with the same reasons) for every row."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.rule_cases import BASE_ROWS, REFERENCE_DATE, RULE_CASES, RuleCase
from tests.spark.frames import run_pandas, run_spark
from twinlake.datasets import DATASETS, DatasetName

pytestmark = pytest.mark.spark


def _batches() -> list[tuple[DatasetName, list[RuleCase]]]:
    """Cases of one dataset share a frame (each row gets its own id); id-column cases run alone."""
    batches: list[tuple[DatasetName, list[RuleCase]]] = []
    for name in DatasetName:
        cases = [c for c in RULE_CASES if c.dataset == name]
        id_column = DATASETS[name].id_column
        batches.append((name, [c for c in cases if c.column != id_column]))
        batches.extend((name, [c]) for c in cases if c.column == id_column)
    return [b for b in batches if b[1]]


def _rows(name: DatasetName, cases: list[RuleCase]) -> list[dict[str, str]]:
    id_column = DATASETS[name].id_column
    rows = []
    for i, case in enumerate(cases):
        row = {**BASE_ROWS[name], case.column: case.raw}
        if len(cases) > 1:
            row[id_column] = str(1000 + i)
        rows.append(row)
    return rows


@pytest.mark.parametrize(("name", "cases"), _batches(), ids=lambda v: str(v) if isinstance(v, str) else None)
def test_rule_cases(spark: Any, name: DatasetName, cases: list[RuleCase]) -> None:
    result = run_spark(spark, name, _rows(name, cases), REFERENCE_DATE)
    for i, case in enumerate(cases):
        got = result.fate[(f"{name}.csv", i + 1)]
        assert (got or ()) == case.codes, case.id
    assert result.counts == run_pandas(name, _rows(name, cases), REFERENCE_DATE).counts


def test_duplicates_keep_the_first_by_source_key_and_row_number(spark: Any) -> None:
    base = BASE_ROWS[DatasetName.PURCHASES]
    rows = [
        base,
        {**base, "amount": "19.990"},  # invalid: not a duplicate (only valid rows count)
        {**base, "amount": " 19.99 "},  # same normalised content: duplicate
        {**base, "amount": "20.00"},  # same id, other content: duplicate_id
        {**base, "purchase_id": "0010", "product": "LAPTOP"},  # same content after normalising: duplicate
    ]
    spark_result = run_spark(spark, DatasetName.PURCHASES, rows, REFERENCE_DATE)
    key = "purchases.csv"
    assert spark_result.fate == {
        (key, 1): None,
        (key, 2): ("invalid_amount",),
        (key, 3): ("duplicate",),
        (key, 4): ("duplicate_id",),
        (key, 5): ("duplicate",),
    }
    assert spark_result == run_pandas(DatasetName.PURCHASES, rows, REFERENCE_DATE)


def test_many_duplicates_are_joined_back_without_a_broadcast(spark: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above BROADCAST_DUPLICATES_MAX duplicates (a whole file uploaded twice at scale) the duplicates are
    joined back with a shuffle join: the same fates as the broadcast path and as the Pandas engine."""
    from jobs.spark_engine import silver

    base = BASE_ROWS[DatasetName.PURCHASES]
    rows = [base, {**base, "amount": " 19.99 "}, {**base, "amount": "20.00"}, base, {**base, "purchase_id": "7"}]
    broadcast = run_spark(spark, DatasetName.PURCHASES, rows, REFERENCE_DATE)
    monkeypatch.setattr(silver, "BROADCAST_DUPLICATES_MAX", 0)
    # Without the hint Spark (or AQE, at run time) would still broadcast so small a frame: forbid it.
    thresholds = ("spark.sql.autoBroadcastJoinThreshold", "spark.sql.adaptive.autoBroadcastJoinThreshold")
    saved = {k: spark.conf.get(k, None) for k in thresholds}
    try:
        for key in thresholds:
            spark.conf.set(key, "-1")
        shuffled = run_spark(spark, DatasetName.PURCHASES, rows, REFERENCE_DATE)
    finally:
        for key, value in saved.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
    assert shuffled == broadcast == run_pandas(DatasetName.PURCHASES, rows, REFERENCE_DATE)
    assert [shuffled.fate[("purchases.csv", i)] for i in range(1, 6)] == [
        None,
        ("duplicate",),
        ("duplicate_id",),
        ("duplicate",),
        None,
    ]


# ---- property: both engines give every row the same fate ---------------------------------------------------

_WS = st.sampled_from(["", " ", "\t", "\x0b", "\n", "\r", "\f", "  \t", "\u00a0", "\u2028"])


def _around(core: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(_WS, core, _WS).map(lambda t: "".join(t))


def _case_mixed(values: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(values).flatmap(
        lambda v: st.lists(st.booleans(), min_size=len(v), max_size=len(v)).map(
            lambda flips: "".join(c.upper() if f else c.lower() for c, f in zip(v, flips, strict=True))
        )
    )


_IDS = st.sampled_from(["1", "2", "01", "0", "-1", "x", "", "999999999999999999", "1e3", "२"])
_DATES = st.sampled_from(
    ["2024-02-29", "2023-02-29", "2026-02-30", "2026-11-26", "2026-11-27", "0999-12-31", "2020-1-05", "", "x"]
)
_MONEY = st.sampled_from(["0", "0.01", "5000", "5000.01", "-1", "1.234", "12.5", "", "1,5", "١٢"])
_PERCENT = st.sampled_from(["0", "0.5", "100", "100.01", "99.99", "", "50.", ".5"])
_TEXT = st.sampled_from(["Ann", "", "Ann Lee", "É", "a\u2028"])
_EMAILS = st.sampled_from(["ann@example.com", "ANN@EXAMPLE.COM", "a@b", "a b@c.de", "", "a@b.c\u2028"])


def _enum(name: DatasetName, column: str) -> st.SearchStrategy[str]:
    allowed = list(DATASETS[name].column(column).allowed)
    return st.one_of(_case_mixed(allowed), st.sampled_from(["", "Mars", "Fr\u0130nce", "ß"]))


_COLUMNS: dict[DatasetName, dict[str, st.SearchStrategy[str]]] = {
    DatasetName.CLIENTS: {
        "client_id": _IDS,
        "name": _TEXT,
        "email": _EMAILS,
        "signup_date": _DATES,
        "country": _enum(DatasetName.CLIENTS, "country"),
    },
    DatasetName.PURCHASES: {
        "purchase_id": _IDS,
        "client_id": _IDS,
        "purchase_date": _DATES,
        "amount": _MONEY,
        "product": _enum(DatasetName.PURCHASES, "product"),
    },
    DatasetName.PROMOTIONS: {
        "promo_id": _IDS,
        "client_id": _IDS,
        "promo_name": _enum(DatasetName.PROMOTIONS, "promo_name"),
        "promo_value": _PERCENT,
    },
}


@st.composite
def _frame(draw: st.DrawFn) -> tuple[DatasetName, list[dict[str, str]]]:
    name = draw(st.sampled_from(list(DatasetName)))
    row = st.fixed_dictionaries({c: _around(s) for c, s in _COLUMNS[name].items()})
    rows = draw(st.lists(row, min_size=1, max_size=12))
    repeats = draw(st.lists(st.sampled_from(rows), max_size=4))  # exact raw duplicates too
    return name, rows + repeats


@pytest.mark.slow  # about 5 minutes on 2 cores: Spark needs ~10 s per tiny frame
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_frame())
def test_both_engines_give_every_row_the_same_fate(spark: Any, frame: tuple[DatasetName, list[dict[str, str]]]) -> None:
    name, rows = frame
    assert run_spark(spark, name, rows, REFERENCE_DATE) == run_pandas(name, rows, REFERENCE_DATE)
