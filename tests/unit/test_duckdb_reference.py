"""The DuckDB reference of the benchmark computes what the contract says: its counts equal the generator's truth.

`benchmarks/duckdb_reference.py` is only a yardstick if it validates exactly like the engines; the generator
counts every injected fault by construction (`truth.json`), so a small faulty set pins it down.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from benchmarks.duckdb_reference import ReferenceResult, Source, run_reference
from twinlake.datasets import DatasetName
from twinlake.gold import GOLD_TABLES, data_quality_rows
from twinlake.manifest import DatasetCounts

AS_OF = date(2026, 11, 26)


@pytest.fixture(scope="module")
def generated(generated_landing: Callable[..., Path]) -> tuple[Path, dict[str, Any]]:
    """3 x 3000 rows with 1 % of every fault kind, and their truth."""
    out = generated_landing(3000, 5, AS_OF, 0.01)
    return out, json.loads((out / "truth.json").read_text())


@pytest.fixture(scope="module")
def reference(
    generated: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, ReferenceResult]:
    landing, _ = generated
    out = tmp_path_factory.mktemp("reference")
    sources = [Source(name, f"{name}.csv", "etag", landing / f"{name}.csv") for name in DatasetName]
    return out, run_reference(sources, out, AS_OF, threads=2)


@pytest.mark.parametrize("dataset", [str(n) for n in DatasetName])
def test_counts_equal_the_generator_truth(
    generated: tuple[Path, dict[str, Any]], reference: tuple[Path, ReferenceResult], dataset: str
) -> None:
    truth = generated[1]["datasets"][dataset]
    counts = reference[1].counts[dataset]
    assert counts["rows_in"] == truth["rows_written"]
    assert counts["rows_clean"] == truth["rows_clean"]
    assert counts["rows_rejected"] == truth["rows_rejected"]
    assert counts["rejected_by_rule"] == truth["rejected_by_rule"]


def test_every_layer_is_written_with_consistent_row_counts(reference: tuple[Path, ReferenceResult]) -> None:
    out, result = reference
    for name in DatasetName:
        counts = result.counts[str(name)]
        assert pq.read_metadata(out / "bronze" / f"{name}.parquet").num_rows == counts["rows_in"]
        assert pq.read_metadata(out / "silver" / f"{name}.parquet").num_rows == counts["rows_clean"]
        assert pq.read_metadata(out / "silver" / f"{name}_rejected.parquet").num_rows == counts["rows_rejected"]
    assert list(result.gold_row_counts) == [t.name for t in GOLD_TABLES]
    for table in GOLD_TABLES:
        written = pq.read_table(out / "gold" / f"{table.name}.parquet")
        assert written.column_names == list(table.column_names)
        assert written.num_rows == result.gold_row_counts[table.name]
    assert result.gold_row_counts["dim_client"] == result.counts["clients"]["rows_clean"]
    assert result.gold_row_counts["fact_purchase"] == result.counts["purchases"]["rows_clean"]
    assert result.gold_row_counts["kpi_global"] == 1


def test_data_quality_matches_the_shared_builder(reference: tuple[Path, ReferenceResult]) -> None:
    out, result = reference
    written = pq.read_table(out / "gold" / "data_quality.parquet").to_pylist()
    counts = {DatasetName(name): DatasetCounts.model_validate(c) for name, c in result.counts.items()}
    expected = data_quality_rows(counts)
    assert [tuple(row.values()) for row in written] == expected
