"""How long the dashboard's Overview takes to render, in a real browser, against the lake the settings name.

    .venv/bin/python benchmarks/bench_dashboard.py --repeat 5

Per round, a fresh `python -m dashboard` process (empty caches) on a free port and a fresh headless chromium;
each figure runs from the page request until the script has run and every chart is drawn:

1. **browser start**: the Benchmark page first (with no benchmark in the lake: one small GET and a few elements),
   in the fresh browser, which loads Streamlit's scripts; it also lists the runs of both engines;
2. **first Overview**: the Gold aggregates of the run and of the previous one are read from the store (not
   cached yet), the browser is warm: what a user sees the first time they open a run;
3. **cached Overview**: `--repeat` more loads (new sessions, same process): nothing is read but one GET per
   pointer;
4. **reference**: `--repeat` loads of the Benchmark page: what a page costs without data, in the same browser.

Also the reads alone, without Streamlit or a browser: the Gold aggregates the Overview reads for the latest run and
its previous run, straight through the contract. Timings on a shared machine are upper bounds: the load average is
printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from dashboard import data
from dashboard.figures import SALES_TABLE
from twinlake.catalog import RunRef
from twinlake.tables import read_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from screenshots import Browser, DashboardServer, page_url

# What the Overview reads besides the two KPI tables (revenue over time at every grain, the four breakdowns).
OVERVIEW_TABLES = (
    *SALES_TABLE.values(),
    "kpi_by_country",
    "kpi_by_product",
    "promo_kpi_by_name",
    "promo_kpi_by_country",
)


def render_seconds(browser: Browser, url: str) -> float:
    """From the request of the page until its script has run and every chart is drawn (polled every 50 ms)."""
    started = time.perf_counter()
    browser.driver.get(url)
    browser.wait_until_drawn(timeout=120, settle=0.0)
    return time.perf_counter() - started


def reads_seconds() -> tuple[float, int]:
    """Seconds to read, uncached, every Gold aggregate the Overview shows for the run the global pointer names and
    for the engine's previous succeeded run; and how many tables that is."""
    source = data.open_source()
    lake = source.lake
    latest = lake.resolve()
    runs = [m for m in (latest, lake.previous_run(latest)) if m is not None]
    tables = ["kpi_global", "promo_kpi_global", *OVERVIEW_TABLES]
    started = time.perf_counter()
    for run in runs:
        for name in tables if run is latest else tables[:2]:
            read_table(lake.store, lake.layout(RunRef(run.engine, run.run_id)).gold(name))
    return time.perf_counter() - started, len(tables) + 2 * (len(runs) - 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="cached loads per round (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="fresh dashboard processes (default 2)")
    args = parser.parse_args(argv)
    for round_number in range(1, args.rounds + 1):
        with DashboardServer() as server, Browser() as browser:
            start = render_seconds(browser, page_url(server.url, "benchmark"))
            first = render_seconds(browser, server.url)
            cards = browser.metrics()
            assert len(cards) == 7, f"expected 7 KPI cards, found {cards}"
            cached = [render_seconds(browser, server.url) for _ in range(args.repeat)]
            reference = [render_seconds(browser, page_url(server.url, "benchmark")) for _ in range(args.repeat)]
        load = os.getloadavg()[0]
        print(
            f"round {round_number}: browser start {start:.2f} s; first Overview {first:.2f} s; cached Overview "
            f"median {statistics.median(cached):.2f} s (min {min(cached):.2f}); reference page median "
            f"{statistics.median(reference):.2f} s; revenue {cards['Revenue']}; load average {load:.2f}"
        )
    seconds, count = reads_seconds()
    print(f"reads alone: {count} Gold aggregates of the latest run and its previous one in {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
