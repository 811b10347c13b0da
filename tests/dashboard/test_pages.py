"""Every page of the dashboard (AppTest), on lakes written by the real Pandas engine from generated data."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from dashboard import figures
from tests.dashboard.conftest import PAGES, no_exception, open_app
from tests.dashboard.lakes import (
    FORMULA_NAME,
    T0,
    SampleLake,
    copy_as_spark,
    fail_next_run,
    land,
    run_pandas,
    tamper,
    write_benchmark,
)
from tests.landing import BUCKETS
from twinlake.datasets import DatasetName
from twinlake.layout import Engine, RunLayout
from twinlake.manifest import RunManifest
from twinlake.s3 import s3_client
from twinlake.settings import Settings
from twinlake.store import LocalStore, ObjectStore, S3Store
from twinlake.tables import read_table

ReadFrom = Callable[[ObjectStore], None]


@pytest.fixture
def offered(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bytes of every file the app offers for download (what `st.download_button` hands to Streamlit)."""
    found: list[bytes] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self: MemoryMediaFileStorage, data: str | bytes, *args: Any, **kwargs: Any) -> str:
        found.append(data if isinstance(data, bytes) else b"")
        return original(self, data, *args, **kwargs)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return found


def kpi_global(lake: SampleLake, run: RunManifest) -> dict[str, Any]:
    table = read_table(lake.store, RunLayout(BUCKETS, run.engine, run.run_id).gold("kpi_global"))
    row: dict[str, Any] = table.to_pylist()[0]
    return row


def cards(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def texts(app: AppTest) -> str:
    """Every piece of text on the page, widgets' labels included, as one string."""
    found = [
        str(getattr(e, "value", ""))
        for kind in ("markdown", "caption", "info", "error", "success", "warning")
        for e in getattr(app, kind)
    ]
    found += [str(getattr(e, "body", "")) for e in app.get("alert")]
    found += [str(e.value) for e in app.code]
    return "\n".join(found)


def test_overview_cards_equal_kpi_global_of_the_run_the_pointer_names(lake: SampleLake, read_from: ReadFrom) -> None:
    read_from(lake.store)
    first, second = lake.runs
    app = open_app()
    no_exception(app)
    shown = cards(app)
    truth = kpi_global(lake, second)
    assert shown["Revenue"] == f"{truth['total_revenue']:,.2f}"
    assert shown["Orders"] == f"{truth['total_orders']:,}"
    assert shown["Customers"] == f"{truth['unique_customers']:,}"
    assert shown["Average order value"] == f"{truth['avg_order_value']:,.2f}"
    assert len(shown) == 7 and {"Promotions", "Clients with a promotion", "Average promo value"} <= set(shown)
    revenue = next(m for m in app.metric if m.label == "Revenue")
    change = truth["total_revenue"] - kpi_global(lake, first)["total_revenue"]
    assert revenue.delta and revenue.delta.startswith(f"{'+' if change >= 0 else '-'}{abs(change):,.2f}")
    assert second.run_id in texts(app)
    assert len(app.get("vega_lite_chart")) == 5  # revenue over time, by country and product, promotions x2


def test_the_run_picker_shows_an_earlier_run_and_its_figures(lake: SampleLake, read_from: ReadFrom) -> None:
    read_from(lake.store)
    first, second = lake.runs
    app = open_app()
    picker = app.sidebar.selectbox(key=f"run-{Engine.PANDAS}-overview-{second.run_id}")
    assert picker.options[1:] == [figures.short_run_label(second), figures.short_run_label(first)]
    picker.set_value(first.run_id).run()
    no_exception(app)
    truth, later = kpi_global(lake, first), kpi_global(lake, second)
    assert truth["total_revenue"] != later["total_revenue"]
    shown = cards(app)
    assert shown["Revenue"] == f"{truth['total_revenue']:,.2f}"
    assert shown["Orders"] == f"{truth['total_orders']:,}"
    assert not any(m.delta for m in app.metric), "the first run has no previous run to compare with"
    assert first.run_id in texts(app)


def test_a_picked_run_stays_picked_when_a_new_run_lands_and_across_pages(
    lake: SampleLake, read_from: ReadFrom, tmp_path: Path
) -> None:
    read_from(lake.store)
    first, second = lake.runs
    app = open_app()
    app.sidebar.selectbox(key=f"run-{Engine.PANDAS}-overview-{second.run_id}").set_value(first.run_id).run()
    land(lake.store, tmp_path / "third", rows=300, seed=13)
    third = run_pandas(lake, T0 + timedelta(hours=3))
    time.sleep(1.1)  # the pointer's cache
    app.run()
    no_exception(app)
    picker = app.sidebar.selectbox(key=f"run-{Engine.PANDAS}-overview-{third.run_id}")
    shown = "\n".join(c.value for c in app.main.caption)
    assert picker.value == first.run_id and first.run_id in shown and third.run_id not in shown
    assert picker.options[0] == f"Latest ({figures.short_run_label(third)})"
    app.switch_page("views/quality.py").run()
    assert first.run_id in app.main.caption[0].value
    app.sidebar.selectbox(key=f"run-{Engine.PANDAS}-quality-{third.run_id}").set_value("latest").run()
    assert third.run_id in app.main.caption[0].value and not app.warning


def test_the_revenue_grain_switches_between_day_week_and_month(lake: SampleLake, read_from: ReadFrom) -> None:
    read_from(lake.store)
    app = open_app()
    for grain in ("week", "month", "day"):
        app.button_group(key="grain").set_value(grain).run()
        no_exception(app)
        assert len(app.get("vega_lite_chart")) == 5


@pytest.mark.parametrize("page", PAGES)
def test_an_empty_lake_says_there_is_no_run_yet(tmp_path: Any, read_from: ReadFrom, page: str) -> None:
    read_from(LocalStore(tmp_path / "empty"))
    app = open_app(page)
    no_exception(app)
    shown = texts(app)
    if page.endswith("benchmark.py"):
        assert "No benchmark yet" in shown and "make bench" in shown
    else:
        assert "No run yet" in shown and "make demo" in shown


def test_a_failed_latest_run_shows_its_error_above_the_last_succeeded_run(
    lake: SampleLake, read_from: ReadFrom
) -> None:
    failed = fail_next_run(lake, T0 + timedelta(hours=2))
    read_from(lake.store)
    for page in ("views/overview.py", "views/quality.py"):
        app = open_app(page)
        no_exception(app)
        assert any(failed.run_id in e.value and "failed" in e.value for e in app.error), page
        assert failed.error and any(failed.error in c.value for c in app.code)
    app = open_app()
    assert cards(app)["Revenue"] == f"{kpi_global(lake, lake.runs[1])['total_revenue']:,.2f}"


def test_runs_lists_failed_runs_with_their_error_and_shows_a_run_in_detail(
    lake: SampleLake, read_from: ReadFrom
) -> None:
    failed = fail_next_run(lake, T0 + timedelta(hours=2))
    read_from(lake.store)
    app = open_app("views/runs.py")
    no_exception(app)
    table = app.dataframe[0].value
    assert list(table["run_id"]) == [failed.run_id, lake.runs[1].run_id, lake.runs[0].run_id]
    assert list(table["status"]) == ["failed", "succeeded", "succeeded"]
    assert failed.error and table["error"].iloc[0] == failed.error.splitlines()[0]
    assert any(failed.error in c.value for c in app.code), "the detail of the newest run shows its error"
    app.selectbox(key="run-detail").set_value(f"pandas/{lake.runs[0].run_id}").run()
    no_exception(app)
    inputs = app.dataframe[1].value
    assert set(inputs["key"]) == {i.key for i in lake.runs[0].inputs}
    gold = next(d.value for d in app.dataframe if "table" in d.value.columns)
    assert dict(zip(gold["table"], gold["rows"], strict=True)) == lake.runs[0].gold_row_counts
    app.toggle(key="only-failed").set_value(True).run()
    assert list(app.dataframe[0].value["run_id"]) == [failed.run_id]


def test_data_quality_shows_counts_per_dataset_and_rule(lake: SampleLake, read_from: ReadFrom) -> None:
    read_from(lake.store)
    run = lake.runs[1]
    app = open_app("views/quality.py")
    no_exception(app)
    totals = app.dataframe[0].value.set_index("dataset")
    for dataset, counts in run.datasets.items():
        assert int(totals.loc[str(dataset), "rows_rejected"]) == counts.rows_rejected
        assert int(totals.loc[str(dataset), "rows_in"]) == counts.rows_in
    rules = app.dataframe[1].value
    for dataset, counts in run.datasets.items():
        of_dataset = rules[rules["dataset"] == str(dataset)]
        failing = {r: int(n) for r, n in zip(of_dataset["rule"], of_dataset["rows_failed"], strict=True) if n}
        assert failing == {r: n for r, n in counts.rejected_by_rule.items() if n}
    assert len(app.get("vega_lite_chart")) == 4  # a rule chart per dataset, the trend across runs


def test_rejected_rows_keep_every_reason_are_filtered_by_rule_and_stay_text(
    lake: SampleLake, read_from: ReadFrom, offered: list[bytes]
) -> None:
    read_from(lake.store)
    run = lake.runs[1]
    app = open_app("views/quality.py")
    browser = app.dataframe[2].value
    clients = run.datasets[DatasetName.CLIENTS]
    assert len(browser) == min(100, clients.rows_rejected)
    assert FORMULA_NAME in list(browser["name"]), "the formula-named client is shown as the text it is"
    assert all(reasons for reasons in browser["_reasons"])
    download = next(d for d in offered if b"client_id" in d and b"_reasons" in d)
    assert ("'" + FORMULA_NAME.replace('"', '""')).encode() in download  # defused in the CSV
    assert b"\n=HYPERLINK" not in download and b",=HYPERLINK" not in download
    rule = "missing_email"
    app.multiselect(key=f"browse-rules-{DatasetName.CLIENTS}").set_value([rule]).run()
    no_exception(app)
    filtered = app.dataframe[2].value
    assert len(filtered) == min(100, clients.rejected_by_rule[rule])
    assert all(rule in reasons.split(", ") for reasons in filtered["_reasons"])
    app.selectbox(key="browse-dataset").set_value(DatasetName.PURCHASES).run()
    purchases = app.dataframe[2].value
    assert "purchase_id" in purchases.columns and len(purchases) == min(100, run.datasets["purchases"].rows_rejected)


def test_the_engines_page_says_identical_then_names_a_tampered_table(lake: SampleLake, read_from: ReadFrom) -> None:
    pandas_run = lake.runs[1]
    copy_as_spark(lake, pandas_run)
    read_from(lake.store)
    app = open_app("views/engines.py")
    no_exception(app)
    assert any(s.value.startswith("Identical: all 15 Gold tables") for s in app.success)
    assert list(app.dataframe[0].value["gold"]) == ["identical"]

    # The Spark copy of another run, without recorded hashes (they are computed from the stored tables), then
    # tampered: one cent more revenue in one country.
    other = copy_as_spark(lake, lake.runs[0], recorded_hashes=False)
    tamper(lake, Engine.SPARK, other.run_id)
    read_from(lake.store)
    app = open_app("views/engines.py")
    no_exception(app)
    assert list(app.dataframe[0].value["gold"]) == ["identical", "1 tables, 0 counts differ"]
    app.selectbox(key="input-set").set_value(other.input_fingerprint).run()
    assert any("1 of 15 Gold tables differ (kpi_by_country)" in e.value for e in app.error)
    tables = next(d.value for d in app.dataframe if "same" in d.value.columns).set_index("table")
    assert not tables.loc["kpi_by_country", "same"] and tables.drop(index="kpi_by_country")["same"].all()


def test_the_engines_page_waits_for_both_engines(lake: SampleLake, read_from: ReadFrom) -> None:
    read_from(lake.store)
    app = open_app("views/engines.py")
    no_exception(app)
    assert any("No input set has been processed by both engines yet" in i.value for i in app.info)


def test_the_benchmark_page_draws_the_results_and_offers_a_defused_csv(
    lake: SampleLake, read_from: ReadFrom, offered: list[bytes]
) -> None:
    results = write_benchmark(lake.store, BUCKETS.gold, lake.runs, error="=cmd|' /C calc'!A0")
    read_from(lake.store)
    app = open_app("views/benchmark.py")
    no_exception(app)
    assert any("Not verified" in w.value for w in app.warning), "a failed lane makes the benchmark unverified"
    assert len(app.get("vega_lite_chart")) == 3
    lanes = app.dataframe[0].value
    assert len(lanes) == len(results.rows) and list(lanes["verified"]).count(True) == 4
    csv = next(d for d in offered if d.startswith(b"engine,bronze_sec"))
    assert b"'=cmd|" in csv and b",=cmd|" not in csv


def test_a_store_that_cannot_be_reached_reads_as_a_message_with_a_retry(read_from: ReadFrom) -> None:
    settings = Settings(s3_endpoint="http://127.0.0.1:9", s3_access_key="k", s3_secret_key="s")  # type: ignore[arg-type]
    read_from(S3Store(s3_client(settings)))
    for page in PAGES:
        app = open_app(page)
        no_exception(app)
        assert any(e.value.startswith("Could not read") for e in app.error), page
        assert "http://127.0.0.1:9" in texts(app)
        assert "make stack-up" in texts(app)
        assert app.button[0].label == "Retry"


def test_an_unchanged_pointer_costs_one_small_get_per_refresh(lake: SampleLake, read_from: ReadFrom) -> None:
    """Once a page has been drawn, drawing it again reads only the pointers: no listing, no table."""
    calls: list[tuple[str, str]] = []

    class Counting(LocalStore):
        def get(self, bucket: str, key: str) -> Any:
            calls.append(("get", key))
            return super().get(bucket, key)

        def list(self, bucket: str, prefix: str = "") -> Any:
            calls.append(("list", prefix))
            return super().list(bucket, prefix)

        def list_folders(self, bucket: str, prefix: str = "") -> Any:
            calls.append(("list_folders", prefix))
            return super().list_folders(bucket, prefix)

        def read_range(self, bucket: str, key: str, start: int, length: int) -> bytes:
            calls.append(("read_range", key))
            return super().read_range(bucket, key, start, length)

    read_from(Counting(lake.root))
    app = open_app()
    assert any(kind == "list_folders" for kind, _ in calls) and any(k.endswith(".parquet") for _, k in calls)
    calls.clear()
    time.sleep(1.1)  # the pointer's one-second cache expires
    app.run()
    no_exception(app)
    assert calls and all(kind == "get" and key.endswith("latest_run.json") for kind, key in calls), calls
    assert len(calls) == 2  # the global pointer (default engine) and the engine's (the page and the live watch)
    assert cards(app)["Revenue"] == f"{Decimal(kpi_global(lake, lake.runs[1])['total_revenue']):,.2f}"
