"""Silver of the Pandas engine equals the generator's truth.json exactly, on generated data with every fault kind."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from jobs.pandas_engine.run import RunRequest, execute_run
from tests.landing import BUCKETS, LANDING
from twinlake.inputs import list_landing
from twinlake.store import LocalStore

AS_OF = date(2026, 11, 26)


@pytest.mark.parametrize("seed", [3, 17])
def test_silver_counts_equal_truth(tmp_path: Path, seed: int, generated_landing: Callable[..., Path]) -> None:
    out = generated_landing(20000, seed, AS_OF, 0.01)
    truth = json.loads((out / "truth.json").read_text())["datasets"]
    store = LocalStore(tmp_path / "store")
    for csv in sorted(out.glob("*.csv")):
        store.put(LANDING, csv.name, csv.read_bytes())
    request = RunRequest(list_landing(store, LANDING), AS_OF, datetime(2026, 11, 26, 12, tzinfo=UTC))
    manifest = execute_run(store, LANDING, BUCKETS, request).manifest
    assert manifest.succeeded, manifest.error
    for name, counts in manifest.datasets.items():
        expected = truth[str(name)]
        assert counts.rows_in == expected["rows_written"]
        assert counts.rows_clean == expected["rows_clean"]
        assert counts.rows_rejected == expected["rows_rejected"]
        assert counts.rejected_by_rule == expected["rejected_by_rule"]
        assert all(n > 0 for code, n in counts.rejected_by_rule.items()), f"{name}: a fault kind never fired"
