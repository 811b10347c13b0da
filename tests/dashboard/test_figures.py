"""What the pages compute from manifests and Gold aggregates, and the CSV downloads."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from dashboard import data, export, figures
from tests.dashboard.lakes import T0, SampleLake, copy_as_spark, fail_next_run
from twinlake.benchmarks import BenchmarkResults, BenchmarkRow
from twinlake.layout import Engine


def test_kpi_changes_are_exact_and_signed() -> None:
    sales = pd.DataFrame(
        {
            "total_revenue": [Decimal("1234.50")],
            "total_orders": [10],
            "unique_customers": [4],
            "avg_order_value": [Decimal("123.45")],
        }
    )
    promos = pd.DataFrame(
        {"total_promotions": [3], "clients_with_promotion": [2], "avg_promo_value": [Decimal("12.50")]}
    )
    before = sales.assign(total_revenue=[Decimal("1000.00")], total_orders=[12])
    cards = {k.label: k for k in figures.kpi_cards(sales, promos, before, promos.assign(avg_promo_value=[Decimal(10)]))}
    assert cards["Revenue"].text() == "1,234.50"
    assert cards["Revenue"].delta == "+234.50 (+23.45 %)"
    assert cards["Orders"].delta == "-2 (-16.67 %)"
    assert cards["Customers"].delta == "no change" and cards["Customers"].unchanged
    assert cards["Average promo value"].text() == "12.50 %"
    assert cards["Average promo value"].delta == "+2.50 pts (+25.00 %)"
    first_run = figures.kpi_cards(sales, promos)
    assert all(k.delta is None for k in first_run)
    zero_before = figures.Kpi("Orders", 5, 0, "count", "")
    assert zero_before.delta == "+5"


def test_a_kpi_table_must_have_one_row() -> None:
    with pytest.raises(ValueError, match="exactly one row"):
        figures.kpi_cards(pd.DataFrame({"total_revenue": []}), pd.DataFrame())


def test_iso_weeks_start_on_their_monday_and_sort_across_years() -> None:
    weeks = pd.DataFrame(
        {
            "iso_year": [2025, 2020, 2026],
            "iso_week": [1, 53, 9],
            "revenue": [Decimal("1.00"), Decimal("2.50"), Decimal("3.00")],
            "orders": [1, 2, 3],
            "customers": [1, 1, 2],
        }
    )
    series = figures.revenue_series(weeks, "week")
    assert list(series["period"]) == ["2020-W53", "2025-W01", "2026-W09"]
    assert [d.date() for d in series["start"]] == [date(2020, 12, 28), date(2024, 12, 30), date(2026, 2, 23)]
    assert list(series["revenue"]) == [2.5, 1.0, 3.0]
    months = pd.DataFrame(
        {"month": ["2026-02", "2025-12"], "revenue": [Decimal(1), Decimal(2)], "orders": [1, 1], "customers": [1, 1]}
    )
    assert list(figures.revenue_series(months, "month")["period"]) == ["2025-12", "2026-02"]


def test_age_reads_at_a_useful_precision() -> None:
    assert [figures.age(s) for s in (-3, 12, 119, 600, 7300, 3 * 86400 + 7200)] == [
        "0 s",
        "12 s",
        "119 s",
        "10 min",
        "2 h 01 min",
        "3 d 2 h",
    ]


def test_history_figures_from_manifests(lake: SampleLake) -> None:
    first, second = lake.runs
    failed = fail_next_run(lake, T0 + timedelta(hours=2))
    runs = [failed, second, first]
    rates = figures.reject_rates(runs)
    assert set(rates["run_id"]) == {first.run_id, second.run_id}, "a failed run has no rates"
    clients = second.datasets["clients"]
    row = rates[(rates["run_id"] == second.run_id) & (rates["dataset"] == "clients")].iloc[0]
    assert row["reject_rate"] == pytest.approx(100 * clients.rows_rejected / clients.rows_in)
    table = figures.runs_table(runs)
    assert list(table["status"]) == ["failed", "succeeded", "succeeded"]
    assert table["rows_in"].iloc[1] == sum(c.rows_in for c in second.datasets.values())
    assert data.previous_succeeded(runs, second) == first
    assert data.previous_succeeded(runs, first) is None
    assert data.previous_succeeded(runs, failed) == second


def test_input_sets_need_every_engine_and_prefer_a_succeeded_run(lake: SampleLake) -> None:
    first, second = lake.runs
    assert figures.input_sets(lake.runs) == []
    spark = copy_as_spark(lake, second)
    sets = figures.input_sets([spark, second, first])
    assert len(sets) == 1 and sets[0].runs == {Engine.PANDAS: second, Engine.SPARK: spark}
    assert sets[0].both_succeeded and sets[0].fingerprint == second.input_fingerprint
    later_failure = second.model_copy(
        update={"status": "failed", "error": "boom", "started_at": T0 + timedelta(days=1)}
    )
    assert figures.input_sets([later_failure, spark, second])[0].runs[Engine.PANDAS] == second
    layers = figures.layer_seconds(sets[0])
    assert list(layers["engine"]) == ["pandas"] * 3 + ["spark"] * 3


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("-1.5", "-1.5"),
        ("+3", "+3"),
        ("1e-3", "1e-3"),
        ("Ann Lee", "Ann Lee"),
        ("", ""),
    ],
)
def test_a_formula_is_written_as_text(cell: str, written: str) -> None:
    assert export.defuse(cell) == written
    frame = pd.DataFrame({"name": [cell], "n": [1]})
    rows = list(csv.reader(io.StringIO(export.frame_csv(frame).decode())))
    assert rows == [["name", "n"], [written, "1"]]


def _lane(engine: str, repeat: int, total: float, *, verified: bool = True) -> BenchmarkRow:
    return BenchmarkRow.model_validate(
        {
            "engine": engine,
            "bench_id": "20261201T000000Z-abc123",
            "rows_per_file": 1000,
            "repeat": repeat,
            "cpu_count": 2,
            "status": "succeeded",
            "verified": verified,
            "bronze_sec": total / 2,
            "silver_sec": total / 4,
            "gold_sec": total / 4,
            "total_sec": total,
            "total_vs_pandas_ratio": total,  # Pandas takes 1 s in every repeat below
        }
    )


def test_benchmark_figures_are_medians_of_verified_repeats_only() -> None:
    rows = [_lane("pandas", r, 1.0) for r in range(3)]
    rows += [_lane("spark", 0, 2.0), _lane("spark", 1, 3.0), _lane("spark", 2, 100.0), _lane("spark", 3, 7.0)]
    rows.append(_lane("spark", 4, 1000.0, verified=False))  # an unverified figure never counts
    results = BenchmarkResults(
        bench_id="20261201T000000Z-abc123",
        started_at=datetime(2026, 12, 1, tzinfo=UTC),
        finished_at=datetime(2026, 12, 1, 0, 5, tzinfo=UTC),
        rows_per_file=[1000],
        repeats=5,
        seed=7,
        cpu_count=2,
        rows=rows,
    )
    ratios = figures.benchmark_ratios(results).set_index("engine")["ratio"]
    assert ratios["spark"] == 5.0 and ratios["pandas"] == 1.0  # median of 2, 3, 7, 100
    layers = figures.benchmark_layers(results)
    spark_bronze = layers[(layers["engine"] == "spark") & (layers["layer"] == "bronze")]["seconds"].item()
    assert spark_bronze == 2.5
    assert 1000.0 not in set(figures.benchmark_totals(results)["total_sec"])
