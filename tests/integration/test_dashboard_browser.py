"""The dashboard in a real browser: `python -m dashboard` on a free port, Debian's headless chromium (selenium), the
real local stack, and runs made by the real Pandas engine on a lake of its own (buckets with a unique suffix).

What it checks: the empty lake reads well; the KPI cards appear and the revenue equals `kpi_global`; every page
opens without an exception; a run published while the page is open appears without a reload (the delay is
printed); a failed latest run shows its banner; an unreachable store shows its message. A screenshot of each
state is saved under data/screenshots/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard.data import HISTORY_SECONDS
from jobs.pandas_engine.run import execute_run
from jobs.runs import RunRequest
from producers.generate import GeneratorConfig, write
from tests.dashboard.lakes import write_benchmark
from tests.rule_cases import REFERENCE_DATE
from twinlake.access import DATA_ROLES, bucket_policies
from twinlake.datasets import DatasetName
from twinlake.inputs import list_landing
from twinlake.layout import Buckets, RunLayout
from twinlake.manifest import RunManifest
from twinlake.s3 import s3_client
from twinlake.settings import Settings, StoreRole
from twinlake.store import S3Store
from twinlake.tables import read_table

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from screenshots import PAGES, REPO, Browser, DashboardServer, page_url

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SHOTS = REPO / "data" / "screenshots"
ROWS = 2000
LIVE_BOUND_S = 10.0  # the page polls every 2 s; the bound leaves room for a loaded machine


class IsolatedLake:
    """Buckets of its own on the local stack (`<name>-<suffix>`), emptied and removed afterwards."""

    def __init__(self, settings: Settings, scratch: Path) -> None:
        self.suffix = uuid.uuid4().hex[:8]
        self.landing = f"landing-{self.suffix}"
        self.buckets = Buckets(
            bronze=f"bronze-{self.suffix}", silver=f"silver-{self.suffix}", gold=f"gold-{self.suffix}"
        )
        self.settings = settings.model_copy(
            update={
                "landing_bucket": self.landing,
                "bronze_bucket": self.buckets.bronze,
                "silver_bucket": self.buckets.silver,
                "gold_bucket": self.buckets.gold,
            }
        )
        self.scratch = scratch
        # The root creates the buckets and grants every role on them, as the stack does for the lake's own.
        self.admin = s3_client(Settings.load(role=StoreRole.ADMIN))
        for bucket in self.names:
            self.admin.create_bucket(Bucket=bucket)
        access_keys = {role: Settings.load(role=role).s3_access_key.get_secret_value() for role in DATA_ROLES}
        for bucket, policy in bucket_policies(access_keys, self.settings).items():
            self.admin.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        self.client = s3_client(settings)  # the engines' keys write the runs, the uploader's land the files
        self.store = S3Store(self.client)
        self.uploader = S3Store(s3_client(Settings.load(role=StoreRole.UPLOADER)))

    @property
    def names(self) -> list[str]:
        return [self.landing, self.buckets.bronze, self.buckets.silver, self.buckets.gold]

    def env(self, **extra: str) -> dict[str, str]:
        """The dashboard's environment: the stack's settings (env file), these buckets."""
        env = {k: v for k, v in os.environ.items() if not k.endswith("_BUCKET")}
        env.update(
            TWINLAKE_LANDING_BUCKET=self.landing,
            TWINLAKE_BRONZE_BUCKET=self.buckets.bronze,
            TWINLAKE_SILVER_BUCKET=self.buckets.silver,
            TWINLAKE_GOLD_BUCKET=self.buckets.gold,
            **extra,
        )
        return env

    def run(self, seed: int, *, broken: bool = False) -> RunManifest:
        """Land a generated data set (and an empty clients file if `broken`), then one real Pandas run."""
        self.uploader.delete_prefix(self.landing, "")
        folder = self.scratch / f"seed-{seed}"
        write(GeneratorConfig(rows=ROWS, seed=seed, as_of=REFERENCE_DATE), folder)
        for dataset in DatasetName:
            self.uploader.put(self.landing, f"{dataset}.csv", (folder / f"{dataset}.csv").read_bytes())
        if broken:
            self.uploader.put(self.landing, "clients/empty.csv", b"")
        request = RunRequest(list_landing(self.store, self.landing), REFERENCE_DATE, datetime.now(UTC))
        return execute_run(self.store, self.landing, self.buckets, request).manifest

    def kpi_global(self, run: RunManifest) -> dict[str, object]:
        table = read_table(self.store, RunLayout(self.buckets, run.engine, run.run_id).gold("kpi_global"))
        row: dict[str, object] = table.to_pylist()[0]
        return row

    def remove(self) -> None:
        admin = S3Store(self.admin)
        for bucket in self.names:
            admin.delete_prefix(bucket, "")
            self.admin.delete_bucket(Bucket=bucket)


@pytest.fixture
def lake(stack_settings: Settings, tmp_path: Path) -> Iterator[IsolatedLake]:
    isolated = IsolatedLake(stack_settings, tmp_path)
    yield isolated
    isolated.remove()


def shot(browser: Browser, name: str) -> None:
    path = browser.screenshot(SHOTS / f"{name}.png")
    print(f"screenshot {path.relative_to(REPO)}")


def wait_for_run(browser: Browser, run_id: str) -> None:
    """Until the open page names `run_id` (within the live bound), then until it has drawn."""
    deadline = time.monotonic() + LIVE_BOUND_S
    while run_id not in browser.text():
        assert time.monotonic() < deadline, f"run {run_id} not shown within {LIVE_BOUND_S:.0f} s"
        time.sleep(0.1)
    browser.wait_until_drawn()


def test_the_dashboard_in_a_browser(lake: IsolatedLake) -> None:
    with DashboardServer(lake.env()) as server, Browser() as browser:
        # An empty lake: no run yet, no exception.
        browser.open(server.url)
        assert "No run yet" in browser.text() and not browser.exceptions()
        shot(browser, "empty-lake")

        first = lake.run(seed=21)
        second = lake.run(seed=22)
        assert first.succeeded and second.succeeded, (first.error, second.error)
        write_benchmark(lake.store, lake.buckets.gold, [first, second])

        # The KPI cards of the run the pointer names; the revenue is kpi_global's. A pointer read is cached for up
        # to a second and the open page polls every two, so the page may show the previous run for a moment.
        browser.open(server.url)
        wait_for_run(browser, second.run_id)
        cards = browser.metrics()
        truth = lake.kpi_global(second)
        assert cards["Revenue"] == f"{truth['total_revenue']:,.2f}", cards
        assert cards["Orders"] == f"{truth['total_orders']:,}"

        for page in PAGES:
            browser.open(page_url(server.url, page))
            assert not browser.exceptions(), f"{page}: {browser.exceptions()[0][:800]}"
            assert PAGES[page] in browser.text()
            shot(browser, page)

        # Live: a run published while the Overview is open appears without a reload.
        browser.open(server.url)
        browser.run_js("window.twinlakeNotReloaded = true")
        third = lake.run(seed=23)
        moved = time.monotonic()
        deadline = moved + LIVE_BOUND_S
        while third.run_id not in browser.text():
            assert time.monotonic() < deadline, f"run {third.run_id} not shown {LIVE_BOUND_S:.0f} s after its pointer"
            time.sleep(0.1)
        delay = time.monotonic() - moved
        assert browser.run_js("return window.twinlakeNotReloaded === true"), "the page reloaded"
        browser.wait_until_drawn()
        assert browser.metrics()["Revenue"] == f"{lake.kpi_global(third)['total_revenue']:,.2f}"
        print(f"\na new run appeared {delay:.1f} s after its pointer moved (no reload)")

        # A failed latest run (it moves no pointer): the open page shows its banner once the run folders are
        # listed again, above the last succeeded run.
        failed = lake.run(seed=24, broken=True)
        assert not failed.succeeded
        deadline = time.monotonic() + HISTORY_SECONDS + LIVE_BOUND_S
        while f"run failed: {failed.run_id}" not in browser.text():
            assert time.monotonic() < deadline, f"no banner for the failed run {failed.run_id}"
            time.sleep(0.2)
        browser.wait_until_drawn()
        assert third.run_id in browser.text() and not browser.exceptions()
        shot(browser, "failed-latest-run")

    # The store cannot be reached: a message and a retry, no traceback.
    with DashboardServer(lake.env(TWINLAKE_S3_ENDPOINT="http://127.0.0.1:9")) as server, Browser() as browser:
        browser.open(server.url)
        text = browser.text()
        assert "Could not read" in text and "Retry" in text and not browser.exceptions(), text
        shot(browser, "store-down")
