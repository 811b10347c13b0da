"""The Silver rules as declared in `twinlake.rules`: which codes each dataset has, in which order, and the patterns
and allowed lists they check against. How each engine applies them is tested on the shared rule cases
(tests/rule_cases.py) in tests/unit/test_silver_pandas.py and tests/spark/test_silver_spark.py."""

from __future__ import annotations

import re
import string

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from twinlake.datasets import DATASETS, ColumnKind, DatasetName
from twinlake.rules import (
    DECIMAL_2_PATTERN,
    EMAIL_PATTERN,
    ISO_DATE_PATTERN,
    POSITIVE_ID_PATTERN,
    RULES,
    TRIM_CHARACTERS,
    DuplicateCheck,
    DuplicateRule,
    RowCheck,
    RowRule,
    RuleCode,
    duplicate_rules,
    row_rules,
    rules_for,
)

C, P, M = DatasetName.CLIENTS, DatasetName.PURCHASES, DatasetName.PROMOTIONS
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
PATTERNS = {
    "POSITIVE_ID_PATTERN": POSITIVE_ID_PATTERN,
    "EMAIL_PATTERN": EMAIL_PATTERN,
    "ISO_DATE_PATTERN": ISO_DATE_PATTERN,
    "DECIMAL_2_PATTERN": DECIMAL_2_PATTERN,
}

# The order in which a rejected row lists its reasons: a contract of the rejected tables and of both engines.
EXPECTED_ORDER: dict[DatasetName, tuple[str, ...]] = {
    C: (
        "missing_client_id",
        "invalid_client_id",
        "missing_name",
        "missing_email",
        "invalid_email",
        "missing_signup_date",
        "invalid_signup_date",
        "future_signup_date",
        "missing_country",
        "unknown_country",
        "duplicate",
        "duplicate_id",
    ),
    P: (
        "missing_purchase_id",
        "invalid_purchase_id",
        "missing_client_id",
        "invalid_client_id",
        "unknown_client",
        "missing_purchase_date",
        "invalid_purchase_date",
        "future_purchase_date",
        "missing_amount",
        "invalid_amount",
        "amount_out_of_range",
        "missing_product",
        "unknown_product",
        "duplicate",
        "duplicate_id",
    ),
    M: (
        "missing_promo_id",
        "invalid_promo_id",
        "missing_client_id",
        "invalid_client_id",
        "unknown_client",
        "missing_promo_name",
        "unknown_promo_name",
        "missing_promo_value",
        "invalid_promo_value",
        "promo_value_out_of_range",
        "duplicate",
        "duplicate_id",
    ),
}


def codes(dataset: DatasetName) -> list[str]:
    return [rule.code for rule in rules_for(dataset)]


# -- declarations -------------------------------------------------------------------------------------------------


def test_every_dataset_declares_its_rules_and_rules_for_returns_them() -> None:
    assert set(RULES) == set(DatasetName)
    for dataset in DatasetName:
        assert rules_for(dataset) == RULES[dataset]
        assert rules_for(dataset), dataset
        assert {rule.dataset for rule in rules_for(dataset)} == {dataset}


def test_a_rule_code_appears_once_per_dataset() -> None:
    for dataset in DatasetName:
        assert len(set(codes(dataset))) == len(codes(dataset)), dataset


@pytest.mark.parametrize("dataset", list(DatasetName))
def test_rules_are_declared_in_the_order_of_a_rejected_rows_reasons(dataset: DatasetName) -> None:
    assert codes(dataset) == list(EXPECTED_ORDER[dataset])


def test_every_rule_code_is_declared_by_some_dataset() -> None:
    declared = {code for dataset in DatasetName for code in codes(dataset)}
    assert declared == set(RuleCode)


def test_rule_codes_are_their_names_in_lower_case() -> None:
    """Codes are stored in rejected rows, manifests and data_quality: plain snake_case, spelled as named."""
    for code in RuleCode:
        assert code.value == code.name.lower()
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", code.value), code


def test_every_column_is_required() -> None:
    """Each column has its `missing_<column>` rule, before any other rule on that column."""
    for dataset in DatasetName:
        declared = codes(dataset)
        for column in DATASETS[dataset].column_names:
            missing = declared.index(f"missing_{column}")
            for other in (f"invalid_{column}", f"unknown_{column}"):
                assert other not in declared or declared.index(other) > missing, (dataset, other)


def test_each_enum_column_has_an_unknown_value_rule() -> None:
    for dataset in DatasetName:
        for column in DATASETS[dataset].columns:
            assert (f"unknown_{column.name}" in codes(dataset)) == (column.kind is ColumnKind.ENUM), column


def test_client_references_share_the_clients_codes() -> None:
    """Purchases and promotions check client_id with the same codes as clients, plus the reference to a clean
    client; clients, the referenced dataset, has no reference rule."""
    client_id = ["missing_client_id", "invalid_client_id"]
    assert codes(C)[:2] == client_id and "unknown_client" not in codes(C)
    for dataset in (P, M):
        start = codes(dataset).index("missing_client_id")
        assert codes(dataset)[start : start + 3] == [*client_id, "unknown_client"]


def test_duplicate_rules_come_last_and_the_split_keeps_the_order() -> None:
    for dataset in DatasetName:
        rows, duplicates = row_rules(dataset), duplicate_rules(dataset)
        assert rows + duplicates == rules_for(dataset)
        assert [r.code for r in duplicates] == [RuleCode.DUPLICATE, RuleCode.DUPLICATE_ID]
        assert all(r.is_duplicate_rule for r in duplicates)
        assert not any(r.is_duplicate_rule for r in rows)


def test_a_rule_kind_holds_only_its_kind_of_check() -> None:
    """Row rules hold row checks, duplicate rules duplicate checks: the compilers tell them apart by type."""
    for dataset in DatasetName:
        for rule in rules_for(dataset):
            assert isinstance(rule, RowRule | DuplicateRule)
            if isinstance(rule, RowRule):
                assert isinstance(rule.check, RowCheck), rule.code
            else:
                assert isinstance(rule.check, DuplicateCheck), rule.code


# -- patterns, trimming and allowed lists ---------------------------------------------------------------------------


def test_trim_characters_are_the_ascii_whitespace() -> None:
    assert sorted(TRIM_CHARACTERS) == sorted(string.whitespace)
    assert "\u00a0" not in TRIM_CHARACTERS  # no Unicode space: the engines would disagree on it


@pytest.mark.parametrize("name", list(PATTERNS))
def test_patterns_use_only_classes_every_engine_reads_alike(name: str) -> None:
    pattern = PATTERNS[name]
    assert pattern.startswith("^") and pattern.endswith("$"), "a pattern matches the whole value"
    for shorthand in (r"\s", r"\d", r"\w", r"\b", r"\S", r"\D", r"\W"):
        assert shorthand not in pattern, f"{name} uses {shorthand}, which is Unicode-aware in some engines"
    assert pattern.isascii()


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        (
            POSITIVE_ID_PATTERN,
            ["1", "0001", "42", "9" * 18, "0" * 5 + "9" * 18],
            ["", "0", "000", "-1", "+1", "1.0", "1e3", "1 2", "9" * 19, "1" + "0" * 18, "\u0661", "\uff11"],
        ),
        (
            EMAIL_PATTERN,
            ["ann@example.com", "a.b+c@d.e.fr", "ANN@Example.COM"],
            ["", "a@b", "no-at.example.com", "a@@b.cd", "a b@c.de", "a@b\tc.de", "a@b.c\nd@e.f", "@b.cd"],
        ),
        (
            ISO_DATE_PATTERN,
            ["1000-01-01", "2026-11-26", "2999-12-31", "2020-02-30"],  # the calendar is NotCalendarDate's check
            ["", "0999-01-01", "3000-01-01", "2020-1-05", "2020-01-5", "20200105", "31/12/2020", "\u0662020-01-01"],
        ),
        (
            DECIMAL_2_PATTERN,
            ["0", "12", "12.5", "12.34", "-5", "007.10", "1" * 13],
            ["", "1.234", ".5", "12.", "1e3", "1,50", "+1", "1 2", "1" * 14, "\u0661", "--1"],
        ),
    ],
    ids=["positive_id", "email", "iso_date", "decimal_2"],
)
def test_patterns_match_as_documented_in_python_and_in_re2(
    pattern: str, matching: list[str], not_matching: list[str]
) -> None:
    """Python `re` and RE2 (pyarrow, the Pandas engine's matcher) agree on every value, and on the documented
    answer; the values are trimmed ones, as the checks see them."""
    values = matching + not_matching
    expected = [True] * len(matching) + [False] * len(not_matching)
    assert [re.search(pattern, v) is not None for v in values] == expected
    assert pc.match_substring_regex(pa.array(values, pa.string()), pattern).to_pylist() == expected


def test_the_largest_positive_id_fits_a_signed_64_bit_integer() -> None:
    largest = "9" * 18
    assert re.search(POSITIVE_ID_PATTERN, largest) and int(largest) < 2**63
    assert not re.search(POSITIVE_ID_PATTERN, str(2**63 - 1))  # 19 digits: out, although it would still fit


def test_allowed_lists_are_distinct_under_ascii_case_folding_and_already_trimmed() -> None:
    """Values are matched trimmed and ASCII case-insensitively, then written in their canonical spelling: two
    allowed values that fold alike would make the spelling ambiguous, and a padded one could never match."""
    for dataset in DatasetName:
        for column in DATASETS[dataset].columns:
            folded = [value.translate(ASCII_LOWER) for value in column.allowed]
            assert len(set(folded)) == len(folded), column
            assert all(value == value.strip(TRIM_CHARACTERS) and value for value in column.allowed), column
            assert all(value.isascii() for value in column.allowed), column
