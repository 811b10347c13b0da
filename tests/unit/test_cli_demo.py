"""The demo's summary and verdict, on runs of the real Pandas engine over generated files and their truth.json."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jobs.pandas_engine.run import execute_run
from jobs.runs import RunRequest
from producers.faults import FaultRates
from producers.generate import GeneratorConfig, write
from tests.landing import BUCKETS, LANDING
from tests.rule_cases import REFERENCE_DATE
from twinlake.catalog import Lake
from twinlake.cli import demo
from twinlake.datasets import DatasetName
from twinlake.inputs import list_landing
from twinlake.manifest import RunManifest
from twinlake.store import LocalStore

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, list[RunManifest], dict[str, Any]]:
    root = tmp_path_factory.mktemp("demo")
    config = GeneratorConfig(rows=300, seed=5, as_of=REFERENCE_DATE, rates=FaultRates.uniform(0.01))
    write(config, root / "generated")
    truth = json.loads((root / "generated" / "truth.json").read_text())
    store = LocalStore(root / "store")
    for name in DatasetName:
        store.put(LANDING, f"{name}.csv", (root / "generated" / f"{name}.csv").read_bytes())
    runs = [
        execute_run(store, LANDING, BUCKETS, RunRequest(list_landing(store, LANDING), REFERENCE_DATE, T0 + d)).manifest
        for d in (timedelta(0), timedelta(minutes=1))
    ]
    return Lake(store, BUCKETS), runs, truth


def test_silver_is_compared_with_the_truth_count_by_count(
    two_runs: tuple[Lake, list[RunManifest], dict[str, Any]],
) -> None:
    _, runs, truth = two_runs
    counts = demo.silver_against_truth(runs, truth)
    assert counts and all(c.equal for c in counts)
    purchases = {c.what: c for c in counts if c.dataset == DatasetName.PURCHASES}
    assert list(purchases)[:3] == ["rows in", "clean", "rejected"]
    expected = truth["datasets"]["purchases"]
    assert purchases["rows in"].truth == expected["rows_written"] == 300
    assert purchases["invalid_amount"].truth == expected["rejected_by_rule"]["invalid_amount"] > 0
    assert set(purchases) - {"rows in", "clean", "rejected"} == {
        code for code, n in expected["rejected_by_rule"].items() if n
    }  # every rule that fired, none cut; rules that fired nowhere left out

    wrong = copy.deepcopy(truth)
    wrong["datasets"]["clients"]["rejected_by_rule"]["invalid_email"] += 1
    different = [c for c in demo.silver_against_truth(runs, wrong) if not c.equal]
    assert [(c.dataset, c.what) for c in different] == [(DatasetName.CLIENTS, "invalid_email")]


def test_the_verdict(
    two_runs: tuple[Lake, list[RunManifest], dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    lake, runs, truth = two_runs
    assert demo.verdict(lake, list(runs), truth) is True
    out = " ".join(capsys.readouterr().out.split())
    assert "VERDICT: the engines agree. All 15 Gold tables identical" in out
    assert "equal to truth.json" in out and "DIFFERENT" not in out

    wrong = copy.deepcopy(truth)
    wrong["datasets"]["purchases"]["rows_clean"] -= 1
    assert demo.verdict(lake, list(runs), wrong) is False
    out = " ".join(capsys.readouterr().out.split())
    assert "VERDICT: DIFFERENT. Silver differs from truth.json (purchases clean)" in out

    assert demo.verdict(lake, [runs[0], None], truth) is False
    assert "not every engine made a successful run" in capsys.readouterr().out


def test_numbers_are_formatted_exactly() -> None:
    assert demo.number(Decimal("21449701.78")) == "21,449,701.78"
    assert demo.number(Decimal("0.10")) == "0.10"
    assert demo.number(1234567) == "1,234,567"
    assert demo.number(None) == "None"


def test_the_summary_table_formats_kpis_and_counts(
    two_runs: tuple[Lake, list[RunManifest], dict[str, Any]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lake, runs, _ = two_runs

    class Finished:  # what the summary reads of a stopped engine process
        def __init__(self, manifest: RunManifest) -> None:
            self.engine, self.manifest, self.problem = manifest.engine, manifest, None
            self.peak_rss, self.landed_to_pointer = 300 * 2**20, 2.5

    demo.console.print(demo.summary_table(lake, [Finished(m) for m in runs]))  # type: ignore[misc]
    revenue = demo.kpi_global(lake, runs[0])["total_revenue"]
    out = capsys.readouterr().out
    c = runs[0].datasets[DatasetName.CLIENTS]
    assert (
        "clients: rows in / clean / rejected" in out
        and f"{c.rows_in:,} / {c.rows_clean:,} / {c.rows_rejected:,}" in out
    )
    assert "kpi_global total_revenue" in out and f"{revenue:,.2f}" in out and revenue > 1000
    assert "300 MiB" in out and "2.5 s" in out
