"""Silver rules of the Pandas engine on small hand-made frames: every bad-value kind, and duplicate tie-breaks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from jobs.pandas_engine.silver import PandasSilverResult, build_silver
from tests.rule_cases import BASE_ROWS, REFERENCE_DATE, RULE_CASES, RuleCase
from twinlake.datasets import DATASETS, REASONS, DatasetName
from twinlake.rules import rules_for

STRING = pd.ArrowDtype(pa.string())
C, P, M = DatasetName.CLIENTS, DatasetName.PURCHASES, DatasetName.PROMOTIONS


def bronze(dataset: DatasetName, rows: Sequence[dict[str, str]], keys: Sequence[str] | None = None) -> pd.DataFrame:
    """A Bronze frame: raw text columns plus lineage; row numbers count per source key."""
    keys = list(keys) if keys is not None else [f"{dataset}.csv"] * len(rows)
    numbers: dict[str, int] = {}
    row_numbers = []
    for key in keys:
        numbers[key] = numbers.get(key, 0) + 1
        row_numbers.append(numbers[key])
    frame = {c: pd.Series([r[c] for r in rows], dtype=STRING) for c in DATASETS[dataset].column_names}
    frame["_source_key"] = pd.Series(keys, dtype=STRING)
    frame["_source_etag"] = pd.Series(["etag"] * len(rows), dtype=STRING)
    frame["_row_number"] = pd.Series(row_numbers, dtype=pd.ArrowDtype(pa.int64()))
    return pd.DataFrame(frame)


def silver(
    dataset: DatasetName, rows: Sequence[dict[str, str]], keys: Sequence[str] | None = None
) -> PandasSilverResult:
    clean_clients = np.array([1], dtype=np.int64)  # the base clients row
    return build_silver(
        DATASETS[dataset], bronze(dataset, rows, keys), REFERENCE_DATE, {(C, "client_id"): clean_clients}
    )


def reasons(result: PandasSilverResult) -> list[list[str]]:
    return [list(r) for r in result.rejected[REASONS]]


@pytest.mark.parametrize("case", RULE_CASES, ids=lambda c: c.id)
def test_rule_case(case: RuleCase) -> None:
    row = {**BASE_ROWS[case.dataset], case.column: case.raw}
    result = silver(case.dataset, [row])
    if case.codes:
        assert reasons(result) == [list(case.codes)]
        assert result.rejected[case.column].tolist() == [case.raw]  # raw value kept, untrimmed
        assert len(result.clean) == 0
    else:
        assert reasons(result) == []
        assert len(result.clean) == 1
    counts = result.counts
    assert counts.rows_in == counts.rows_clean + counts.rows_rejected == 1
    assert {k for k, v in counts.rejected_by_rule.items() if v} == set(case.codes)


def test_every_rule_code_has_a_case() -> None:
    """Per dataset: a code two datasets share (invalid_client_id) needs a case in each of them. The duplicate
    rules need two rows, so their cases are the duplicate tests below (and the Spark engine's)."""
    with_cases = {(case.dataset, code) for case in RULE_CASES for code in case.codes}
    declared = {(d, str(rule.code)) for d in DatasetName for rule in rules_for(d) if not rule.is_duplicate_rule}
    assert sorted(declared - with_cases) == []
    assert sorted(with_cases - declared) == []  # a case's codes are rules of its own dataset


def test_a_row_keeps_every_reason_in_rule_order() -> None:
    row = {"client_id": "x", "name": " ", "email": "bad", "signup_date": "2030-01-01", "country": "Mars"}
    assert reasons(silver(C, [row])) == [
        ["invalid_client_id", "missing_name", "invalid_email", "future_signup_date", "unknown_country"]
    ]


def test_normalised_values_are_typed_and_canonical() -> None:
    row = {
        "client_id": " 007 ",
        "name": " Ann ",
        "email": " ANN@Example.COM ",
        "signup_date": "2020-05-01",
        "country": " fRANCE ",
    }
    clean = silver(C, [row]).clean
    assert clean[["client_id", "name", "email", "country"]].iloc[0].tolist() == [
        7,
        "Ann",
        "ann@example.com",
        "France",
    ]
    purchase = silver(P, [{**BASE_ROWS[P], "amount": " 7.5 ", "product": "laptop"}]).clean
    assert str(purchase["amount"].iloc[0]) == "7.50"
    assert purchase["product"].iloc[0] == "Laptop"
    promo = silver(M, [{**BASE_ROWS[M], "promo_name": "vip25"}]).clean
    assert promo["promo_name"].iloc[0] == "VIP25"


def test_exact_duplicate_after_normalisation_is_duplicate() -> None:
    a = BASE_ROWS[C]
    b = {**a, "email": " ANN@EXAMPLE.com ", "country": "france"}  # same content once normalised
    result = silver(C, [a, b])
    assert len(result.clean) == 1 and result.clean["_row_number"].tolist() == [1]
    assert reasons(result) == [["duplicate"]]


def test_same_id_different_content_is_duplicate_id_and_copies_of_it_are_duplicates() -> None:
    a = BASE_ROWS[C]
    b = {**a, "name": "Bob"}
    result = silver(C, [a, b, dict(b)])
    assert result.clean["name"].tolist() == ["Ann Lee"]
    assert reasons(result) == [["duplicate_id"], ["duplicate"]]


def test_earlier_means_lower_source_key_then_row_number() -> None:
    a = BASE_ROWS[C]
    b = {**a, "name": "Bob"}
    # clients.csv sorts before clients/2026-11-26.csv ('.' < '/'), whatever the frame order
    result = silver(C, [b, a, {**a, "client_id": "2"}], keys=["clients/2026-11-26.csv", "clients.csv", "clients.csv"])
    assert result.clean["name"].tolist() == ["Ann Lee", "Ann Lee"]
    assert result.rejected["_source_key"].tolist() == ["clients/2026-11-26.csv"]
    assert reasons(result) == [["duplicate_id"]]


def test_rows_failing_other_rules_are_not_duplicate_candidates() -> None:
    a = BASE_ROWS[C]
    bad_first = {**a, "email": "broken"}
    result = silver(C, [bad_first, a])
    assert reasons(result) == [["invalid_email"]]
    assert result.clean["_row_number"].tolist() == [2]


def test_unknown_client_rows_are_not_duplicate_candidates() -> None:
    p = BASE_ROWS[P]
    result = silver(P, [{**p, "client_id": "999"}, {**p, "client_id": "999"}, p])
    assert reasons(result) == [["unknown_client"], ["unknown_client"]]
    assert len(result.clean) == 1


def test_counts_add_up_and_match_the_reasons() -> None:
    a = BASE_ROWS[C]
    rows = [a, a, {**a, "client_id": ""}, {**a, "client_id": "3", "email": "x", "country": "?"}]
    counts = silver(C, rows).counts
    assert (counts.rows_in, counts.rows_clean, counts.rows_rejected) == (4, 1, 3)
    assert counts.rejected_by_rule["duplicate"] == 1
    assert counts.rejected_by_rule["missing_client_id"] == 1
    assert counts.rejected_by_rule["invalid_email"] == 1
    assert counts.rejected_by_rule["unknown_country"] == 1
