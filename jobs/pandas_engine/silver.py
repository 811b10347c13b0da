"""Silver for the Pandas engine: every Bronze row becomes exactly one clean row or one rejected row.

Pure functions: a Bronze frame in, clean and rejected frames and their counts out. The rules come from
`twinlake.rules`; this module only decides the order (row rules, then duplicates among rows that pass them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from jobs.pandas_engine.compiler import Mask, PandasCompiler, PandasDuplicateCompiler, trim
from twinlake.datasets import LINEAGE_COLUMNS, REASONS, ROW_NUMBER, SOURCE_KEY, Dataset, DatasetName
from twinlake.manifest import DatasetCounts
from twinlake.rules import Rule, duplicate_rules, row_rules, rules_for


@dataclass(frozen=True)
class PandasSilverResult:
    """One dataset's Silver: typed clean rows, raw rejected rows with reasons, and the counts."""

    clean: pd.DataFrame
    rejected: pd.DataFrame
    counts: DatasetCounts


def build_silver(
    dataset: Dataset,
    bronze: pd.DataFrame,
    reference_date: date,
    clean_ids: Mapping[tuple[DatasetName, str], npt.NDArray[np.int64]],
) -> PandasSilverResult:
    """Validate and normalise one dataset's Bronze rows (raw text plus lineage columns)."""
    bronze = bronze.sort_values([SOURCE_KEY, ROW_NUMBER], kind="stable").reset_index(drop=True)
    trimmed = pd.DataFrame({c: trim(bronze[c]) for c in dataset.column_names})
    compiler = PandasCompiler(trimmed, reference_date, clean_ids)

    failures: dict[Rule, Mask] = {rule: compiler.fails(rule.check) for rule in row_rules(dataset.name)}
    passes_row_rules = ~np.logical_or.reduce(list(failures.values())) if failures else np.ones(len(bronze), bool)
    typed = compiler.normalise(dataset)
    duplicates = PandasDuplicateCompiler(typed, passes_row_rules)
    failures.update({rule: duplicates.fails(rule.check) for rule in duplicate_rules(dataset.name)})

    rules = rules_for(dataset.name)
    matrix = np.column_stack([failures[r] for r in rules]) if len(bronze) else np.zeros((0, len(rules)), bool)
    rejected_mask: Mask = np.asarray(matrix.any(axis=1), dtype=np.bool_)
    clean_rows, rejected_rows = np.flatnonzero(~rejected_mask), np.flatnonzero(rejected_mask)

    clean = pd.concat([typed.iloc[clean_rows], bronze[list(LINEAGE_COLUMNS)].iloc[clean_rows]], axis=1)
    rejected = bronze[[*dataset.column_names, *LINEAGE_COLUMNS]].iloc[rejected_rows].copy()
    rejected[REASONS] = _reason_lists(matrix[rejected_rows], rules, rejected.index)

    per_rule = matrix.sum(axis=0)
    counts = DatasetCounts(
        rows_in=len(bronze),
        rows_clean=int((~rejected_mask).sum()),
        rows_rejected=int(rejected_mask.sum()),
        rejected_by_rule={r.code: int(n) for r, n in zip(rules, per_rule, strict=True)},
    )
    return PandasSilverResult(clean.reset_index(drop=True), rejected.reset_index(drop=True), counts)


def _reason_lists(matrix: npt.NDArray[np.bool_], rules: tuple[Rule, ...], index: pd.Index) -> pd.Series:
    """Per rejected row, the codes of every rule it fails, in rule order (built without a Python row loop)."""
    rows, cols = np.nonzero(matrix)  # row-major: each row's codes come out in rule order
    codes = pa.array([str(r.code) for r in rules]).take(pa.array(cols))
    offsets = np.concatenate([[0], np.cumsum(matrix.sum(axis=1))]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), codes)
    assert len(rows) == len(codes)
    return pd.Series(lists, index=index, dtype=pd.ArrowDtype(pa.list_(pa.string())))
