"""The generator writes exactly what truth.json says: proven by an independent, literal reading of the rules.

`ReferenceValidator` below knows nothing of how the generator builds rows. It reads each CSV with the
standard `csv` module and applies the rule nodes of `twinlake.rules` one row at a time with `re`, `datetime`
and `decimal` (trim `TRIM_CHARACTERS`, ASCII case folding, duplicates last among rows passing every other
rule, in row order), collecting EVERY reason of every row. Its counts must equal truth.json, and every
rejected row must have exactly one reason.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from producers import generate as gen
from producers.faults import DUPLICATE_KINDS, FAULT_SPECS, FaultKind, FaultRates, NoiseKind
from twinlake.datasets import DATASETS, ColumnKind, Dataset, DatasetName
from twinlake.rules import (
    DECIMAL_2_PATTERN,
    ISO_DATE_PATTERN,
    POSITIVE_ID_PATTERN,
    TRIM_CHARACTERS,
    AfterReferenceDate,
    Blank,
    ExactDuplicate,
    NotAllowed,
    NotAmongClean,
    NotCalendarDate,
    NotMatching,
    OutsideRange,
    RepeatedId,
    RuleCode,
    rules_for,
)

AS_OF = date(2026, 11, 26)
_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(value: str) -> str:
    return value.translate(_FOLD)


def trimmed(value: str) -> str:
    return value.strip(TRIM_CHARACTERS)


def calendar_date(value: str) -> date | None:
    if not re.search(ISO_DATE_PATTERN, value):
        return None
    try:
        return date(int(value[0:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        return None


def decimal_2(value: str) -> Decimal | None:
    return Decimal(value) if re.search(DECIMAL_2_PATTERN, value) else None


def positive_id(value: str) -> int | None:
    return int(value) if re.search(POSITIVE_ID_PATTERN, value) else None


@dataclass
class Verdicts:
    """What the reference validator concluded about one file."""

    header: list[str]
    rows: list[dict[str, str]]
    reasons: list[list[RuleCode]] = field(default_factory=list)

    @property
    def clean(self) -> list[dict[str, str]]:
        return [r for r, why in zip(self.rows, self.reasons, strict=True) if not why]


class ReferenceValidator:
    """Applies `twinlake.rules` literally, row by row; clients first (the others refer to its clean ids)."""

    def __init__(self, reference_date: date) -> None:
        self.reference_date = reference_date
        self.clean_ids: dict[tuple[DatasetName, str], set[int]] = {}
        self.all_valid_ids: dict[tuple[DatasetName, str], set[int]] = {}

    def _fails(self, check: object, row: dict[str, str]) -> bool:
        if isinstance(check, Blank):
            return trimmed(row[check.column]) == ""
        value = trimmed(row[check.column])  # type: ignore[attr-defined]
        if value == "":
            return False  # only Blank fires on an empty value
        if isinstance(check, NotMatching):
            return re.search(check.pattern, value) is None
        if isinstance(check, NotCalendarDate):
            return calendar_date(value) is None
        if isinstance(check, AfterReferenceDate):
            day = calendar_date(value)
            return day is not None and day > self.reference_date
        if isinstance(check, OutsideRange):
            number = decimal_2(value)
            return number is not None and not (check.low_exclusive < number <= check.high_inclusive)
        if isinstance(check, NotAllowed):
            return ascii_lower(value) not in {ascii_lower(a) for a in check.allowed}
        if isinstance(check, NotAmongClean):
            ident = positive_id(value)
            return ident is not None and ident not in self.clean_ids[(check.dataset, check.ref_column)]
        raise AssertionError(f"unknown check {check!r}")

    @staticmethod
    def normalised(dataset: Dataset, row: dict[str, str]) -> tuple[object, ...]:
        out: list[object] = []
        for column in dataset.columns:
            value = trimmed(row[column.name])
            if column.kind is ColumnKind.ID:
                out.append(int(value))
            elif column.kind is ColumnKind.EMAIL:
                out.append(ascii_lower(value))
            elif column.kind is ColumnKind.DATE:
                out.append(calendar_date(value))
            elif column.kind in (ColumnKind.MONEY, ColumnKind.PERCENT):
                out.append(decimal_2(value))
            elif column.kind is ColumnKind.ENUM:
                out.append(next(a for a in column.allowed if ascii_lower(a) == ascii_lower(value)))
            else:
                out.append(value)
        return tuple(out)

    def validate(self, dataset: Dataset, path: Path) -> Verdicts:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows = [dict(zip(header, values, strict=True)) for values in reader]
        verdicts = Verdicts(header=header, rows=rows)
        rules = rules_for(dataset.name)
        id_position = dataset.column_names.index(dataset.id_column)
        seen_content: set[tuple[object, ...]] = set()
        seen_ids: dict[object, set[tuple[object, ...]]] = {}
        for row in rows:
            reasons = [r.code for r in rules if not r.is_duplicate_rule and self._fails(r.check, row)]
            if not reasons:  # duplicates: last, among the rows that pass every other rule, in row order
                content = self.normalised(dataset, row)
                ident = content[id_position]
                for rule in rules:
                    if isinstance(rule.check, ExactDuplicate) and content in seen_content:
                        reasons.append(rule.code)
                    if isinstance(rule.check, RepeatedId) and any(c != content for c in seen_ids.get(ident, ())):
                        reasons.append(rule.code)
                seen_content.add(content)
                seen_ids.setdefault(ident, set()).add(content)
            verdicts.reasons.append(reasons)
        for column in dataset.columns:
            if column.kind is ColumnKind.ID:
                key = (dataset.name, column.name)
                self.clean_ids[key] = {int(trimmed(r[column.name])) for r in verdicts.clean}
                parsed = (positive_id(trimmed(r[column.name])) for r in rows)
                self.all_valid_ids[key] = {i for i in parsed if i is not None}
        return verdicts


def _noise(dataset: Dataset, rows: list[dict[str, str]]) -> Counter[str]:
    """Kinds of valid noise seen on clean rows (a row may only carry one by construction)."""
    seen: Counter[str] = Counter()
    for row in rows:
        kinds = set()
        for column in dataset.columns:
            raw = row[column.name]
            value = trimmed(raw)
            if raw != value:
                kinds.add("whitespace")
            if column.kind is ColumnKind.EMAIL and value != ascii_lower(value):
                kinds.add("case")
            if column.kind is ColumnKind.ENUM and value not in column.allowed:
                kinds.add("case")
            if column.kind is ColumnKind.ID and value.startswith("0"):
                kinds.add("leading_zeros")
        assert len(kinds) <= 1, row
        seen.update(kinds)
    return seen


def _generate(tmp: Path, rows: int, seed: int, rate: float) -> dict[str, Any]:
    config = gen.GeneratorConfig(rows=rows, seed=seed, as_of=AS_OF, rates=FaultRates.uniform(rate))
    return gen.write(config, tmp)


@pytest.fixture(scope="module", params=[1, 2, 3], ids=lambda s: f"seed{s}")
def high_fault_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp(f"gen{request.param}")
    return out, _generate(out, 5_000, request.param, 0.02)


def test_reference_validator_agrees_with_truth(high_fault_run: tuple[Path, dict[str, Any]]) -> None:
    out, truth = high_fault_run
    assert json.loads((out / gen.TRUTH_FILE).read_text()) == truth
    validator = ReferenceValidator(AS_OF)
    for name in DatasetName:  # clients first
        dataset = DATASETS[name]
        expected = truth["datasets"][name]
        verdicts = validator.validate(dataset, out / f"{name}.csv")
        assert [len(r) for r in verdicts.reasons if len(r) > 1] == [], "a row with more than one reason"
        by_rule = Counter(code for reasons in verdicts.reasons for code in reasons)
        assert {str(r.code): by_rule[r.code] for r in rules_for(name)} == expected["rejected_by_rule"]
        rejected = sum(1 for r in verdicts.reasons if r)
        assert expected["rows_written"] == len(verdicts.rows) == 5_000
        assert expected["rows_rejected"] == rejected
        assert expected["rows_clean"] == len(verdicts.clean) == 5_000 - rejected
        assert expected["rows_rejected"] == sum(expected["rejected_by_rule"].values())
        noise = _noise(dataset, verdicts.clean)
        assert dict(noise) == {k: v for k, v in expected["noise_valid"].items() if v}
        if name is not DatasetName.CLIENTS:
            client_ids = validator.all_valid_ids[(DatasetName.CLIENTS, "client_id")]
            detail: Counter[str] = Counter()
            for row, reasons in zip(verdicts.rows, verdicts.reasons, strict=True):
                if reasons == [RuleCode.UNKNOWN_CLIENT]:
                    ident = positive_id(trimmed(row["client_id"]))
                    detail["invalid_client" if ident in client_ids else "nonexistent"] += 1
            assert dict(detail) == expected["unknown_client_detail"]


def test_truth_rows_match_the_validator(tmp_path: Path) -> None:
    config = gen.GeneratorConfig(rows=3_000, seed=9, as_of=AS_OF, rates=FaultRates.uniform(0.01))
    gen.write(config, tmp_path, truth_rows=True)
    records = [json.loads(line) for line in (tmp_path / gen.TRUTH_ROWS_FILE).read_text().splitlines()]
    validator = ReferenceValidator(AS_OF)
    for name in DatasetName:
        verdicts = validator.validate(DATASETS[name], tmp_path / f"{name}.csv")
        actual = {(i + 1, str(r[0])) for i, r in enumerate(verdicts.reasons) if r}
        assert actual == {(r["row"], r["rule"]) for r in records if r["dataset"] == name}


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("default")
    config = gen.GeneratorConfig(rows=5_000, seed=42, as_of=AS_OF)
    return out, gen.write(config, out)


def test_every_fault_kind_is_produced_at_default_rates(default_run: tuple[Path, dict[str, Any]]) -> None:
    _, truth = default_run
    for name in DatasetName:
        entry = truth["datasets"][name]
        for spec in FAULT_SPECS[name]:
            assert entry["faults_by_kind"][spec.kind] > 0, (name, spec.kind)
        assert all(n > 0 for n in entry["rejected_by_rule"].values()), (name, entry["rejected_by_rule"])
        assert all(n > 0 for n in entry["noise_valid"].values())
        if name is not DatasetName.CLIENTS:
            assert entry["unknown_client_detail"]["nonexistent"] > 0
            assert entry["unknown_client_detail"]["invalid_client"] > 0
    # and the validator agrees at default rates too
    out, _ = default_run
    validator = ReferenceValidator(AS_OF)
    for name in DatasetName:
        verdicts = validator.validate(DATASETS[name], out / f"{name}.csv")
        assert sum(1 for r in verdicts.reasons if r) == truth["datasets"][name]["rows_rejected"]


def test_files_are_utf8_with_exact_header_and_row_count(default_run: tuple[Path, dict[str, Any]]) -> None:
    out, truth = default_run
    assert sorted(p.name for p in out.iterdir()) == [
        "clients.csv",
        "promotions.csv",
        "purchases.csv",
        "truth.json",
    ]
    for name in DatasetName:
        body = (out / f"{name}.csv").read_bytes()
        text = body.decode("utf-8")  # strict
        assert not text.startswith("\ufeff")
        assert "\r" not in text and "\\" not in text and "\0" not in text
        assert text.endswith("\n")
        lines = text.split("\n")[:-1]
        assert lines[0] == ",".join(DATASETS[name].column_names)
        assert len(lines) == truth["datasets"][name]["rows_written"] + 1 == 5_001
        if name is DatasetName.CLIENTS:
            assert any(not line.isascii() for line in lines)  # accented names do occur
        # pyarrow (used by the engines) reads the same cells as the csv module
        names = DATASETS[name].column_names
        opts = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False)
        table = pacsv.read_csv(out / f"{name}.csv", convert_options=opts)
        with (out / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))[1:]
        assert [list(r) for r in zip(*(table.column(c).to_pylist() for c in names), strict=True)] == rows


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    _generate(a, 2_000, 7, 0.002)
    _generate(b, 2_000, 7, 0.002)
    _generate(c, 2_000, 8, 0.002)
    for name in [*(f"{n}.csv" for n in DatasetName), gen.TRUTH_FILE]:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    for name in (f"{n}.csv" for n in DatasetName):
        assert (a / name).read_bytes() != (c / name).read_bytes(), name


def test_cli_writes_requested_rows_and_rates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--rows", "1200", "--seed", "3", "--as-of", "2026-01-31", "--out", str(tmp_path)]
    assert gen.main([*argv, "--fault-rate", "0.001", "--rate", "invalid_email=0.05", "--rate", "future_date=0"]) == 0
    truth = json.loads((tmp_path / gen.TRUTH_FILE).read_text())
    assert truth["generator"]["as_of"] == "2026-01-31"
    assert truth["generator"]["fault_rates"]["invalid_email"] == 0.05
    clients = truth["datasets"]["clients"]
    assert clients["rejected_by_rule"]["invalid_email"] == 60
    assert clients["rejected_by_rule"]["future_signup_date"] == 0
    assert clients["rejected_by_rule"]["missing_name"] == 1  # round(1.2) but at least one
    for name in DatasetName:
        assert truth["datasets"][name]["rows_written"] == 1200
        with (tmp_path / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
            assert sum(1 for _ in csv.reader(fh)) == 1201
    assert "clients" in capsys.readouterr().out
    validator = ReferenceValidator(date(2026, 1, 31))
    for name in DatasetName:
        verdicts = validator.validate(DATASETS[name], tmp_path / f"{name}.csv")
        assert sum(1 for r in verdicts.reasons if r) == truth["datasets"][name]["rows_rejected"]


def test_small_and_zero_rate_runs(tmp_path: Path) -> None:
    truth = _generate(tmp_path, 10, 1, 0.002)
    for name in DatasetName:
        assert truth["datasets"][name]["rows_clean"] == 10  # under 1000 rows, 0.002 rounds to none
    truth = _generate(tmp_path, 1, 1, 0.0)
    assert all(d["rows_written"] == 1 == d["rows_clean"] for d in truth["datasets"].values())


def test_rates_too_high_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="too high"):
        _generate(tmp_path, 1_000, 1, 0.06)
    with pytest.raises(ValueError):
        FaultRates.uniform(1.5)
    assert FaultRates.uniform(0.0, overrides={FaultKind.INVALID_EMAIL: 0.1}).count(FaultKind.INVALID_EMAIL, 10) == 1


def test_invalid_client_falls_back_to_absent_ids_when_no_client_is_invalid(tmp_path: Path) -> None:
    rates = FaultRates.uniform(0.0, overrides={FaultKind.INVALID_CLIENT: 0.01})
    config = gen.GeneratorConfig(rows=2_000, seed=4, as_of=AS_OF, rates=rates)
    truth = gen.write(config, tmp_path)
    assert truth["datasets"]["clients"]["rows_rejected"] == 0
    for name in (DatasetName.PURCHASES, DatasetName.PROMOTIONS):
        assert truth["datasets"][name]["unknown_client_detail"] == {"nonexistent": 20, "invalid_client": 0}
    validator = ReferenceValidator(AS_OF)
    for name in DatasetName:
        verdicts = validator.validate(DATASETS[name], tmp_path / f"{name}.csv")
        assert sum(1 for r in verdicts.reasons if r) == truth["datasets"][name]["rows_rejected"]


def test_every_fault_kind_is_a_row_fault_with_values_or_a_duplicate() -> None:
    assert set(gen.ROW_FAULT_VALUES).isdisjoint(DUPLICATE_KINDS)
    assert set(gen.ROW_FAULT_VALUES) | DUPLICATE_KINDS == set(FaultKind)
    assert set(gen.NOISE_VALUES) == set(NoiseKind)
