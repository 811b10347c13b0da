"""What a benchmark shows: medians over verified rows only, report.md, the plots, the files and where they go."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs.benchmark.__main__ import main, rows_list
from jobs.benchmark.lanes import Drop
from jobs.benchmark.report import PLOTS, medians, outputs, render_report, write_outputs
from jobs.benchmark.run import EXIT_SETUP
from twinlake.benchmarks import BenchmarkResults, BenchmarkRow, make_bench_id, rows_from_csv
from twinlake.store import LocalStore

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
BENCH = make_bench_id(T0, "0a0b0c")
PNG = b"\x89PNG\r\n\x1a\n"


def row(
    lane: str, rows: int, repeat: int, total: float, *, verified: bool = True, l2p: float | None = None
) -> BenchmarkRow:
    drop = Drop(BENCH, rows, repeat, 42 + repeat, 2)
    return drop.row(
        lane,  # type: ignore[arg-type]
        "succeeded",
        bronze_sec=total / 4,
        silver_sec=total / 2,
        gold_sec=total / 4,
        total_sec=total,
        landed_to_pointer_sec=l2p,
        verified=verified,
    )


def results(rows: list[BenchmarkRow], **changes: object) -> BenchmarkResults:
    base = BenchmarkResults(
        bench_id=BENCH,
        started_at=T0,
        finished_at=T0 + timedelta(minutes=3),
        rows_per_file=sorted({r.rows_per_file for r in rows}) or [10],
        repeats=3,
        seed=42,
        cpu_count=2,
        rows=rows,
        load_average_start=(1.0, 1.5, 2.0),
        load_average_end=(2.0, 1.5, 1.0),
        landing_objects=2,
        landing_restored=True,
    )
    return base.model_copy(update=changes)


SWEEP = [
    row("pandas", 10_000, 0, 1.0, l2p=3.0),
    row("pandas", 10_000, 1, 3.0, l2p=4.0),
    row("pandas", 10_000, 2, 2.0, l2p=5.0),
    row("spark", 10_000, 0, 20.0, l2p=30.0),
    row("spark", 10_000, 1, 99.0, verified=False),  # unverified: never counted
    row("duckdb", 10_000, 0, 0.5),
    row("pandas", 100_000, 0, 4.0, l2p=6.0),
]


def test_medians_use_verified_rows_only() -> None:
    found = {(m.lane, m.rows_per_file): m for m in medians(SWEEP)}
    assert set(found) == {("pandas", 10_000), ("spark", 10_000), ("duckdb", 10_000), ("pandas", 100_000)}
    pandas = found[("pandas", 10_000)]
    assert (pandas.repeats, pandas.total, pandas.total_min, pandas.total_max) == (3, 2.0, 1.0, 3.0)
    assert pandas.landed_to_pointer == 4.0
    assert found[("spark", 10_000)].total == 20.0 and found[("spark", 10_000)].repeats == 1


def test_report_says_what_ran_the_verdict_and_every_row() -> None:
    text = render_report(results(SWEEP), list(PLOTS))
    assert f"# twinlake benchmark {BENCH}" in text
    assert "**NOT verified**" in text  # one row is unverified
    assert "load average (1 / 5 / 15 min) 1.00 / 1.50 / 2.00" in text
    assert "2 object(s) kept" in text and "restored" in text
    assert text.count("| 10,000 | ") == 6 + 3  # every row, plus the three medians at 10,000
    for name in PLOTS:
        assert f"![{name}]({name})" in text
    verified = render_report(results([r for r in SWEEP if r.verified]), [])
    assert "**verified**" in verified and "NOT verified" not in verified


def test_every_output_is_written_to_the_lake_and_locally(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    written = write_outputs(store, "gold", results(SWEEP), tmp_path / "data")
    keys = {o.key.removeprefix(f"benchmarks/{BENCH}/") for o in store.list("gold", "benchmarks/")}
    assert keys == {"results.csv", "results.json", "report.md", *PLOTS}
    assert written.lake_folder == f"s3://gold/benchmarks/{BENCH}/"
    assert rows_from_csv((tmp_path / "data" / "benchmark_results.csv").read_bytes()) == SWEEP
    assert BenchmarkResults.from_json((tmp_path / "data" / "benchmark" / "results.json").read_bytes()).rows == SWEEP
    for name in PLOTS:
        assert (tmp_path / "data" / "benchmark" / name).read_bytes().startswith(PNG)
    assert json.loads(store.get("gold", f"benchmarks/{BENCH}/results.json").body)["bench_id"] == BENCH


def test_plots_are_drawn_even_with_nothing_verified() -> None:
    files = outputs(results([row("pandas", 10, 0, 1.0, verified=False)]))
    assert all(files[name].startswith(PNG) for name in PLOTS)


def test_rows_list_reads_counts_and_suffixes() -> None:
    assert rows_list("10k,100k,1M") == (10_000, 100_000, 1_000_000)
    assert rows_list("2000") == (2000,)
    assert rows_list("1.5k") == (1500,)
    for bad in ("", "ten", "0", "1.5"):
        with pytest.raises(Exception, match="row count"):
            rows_list(bad)


def test_missing_credentials_give_a_short_message_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith("TWINLAKE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TWINLAKE_ENV_FILE", str(tmp_path / "none.env"))
    assert main(["--rows", "10"]) == EXIT_SETUP
    printed = capsys.readouterr()
    assert "TWINLAKE_S3_ACCESS_KEY" in printed.out + printed.err
    assert "Traceback" not in printed.out + printed.err
