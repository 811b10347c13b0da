"""Fixtures of the dashboard tests: lakes written by the Pandas engine, and the app pointed at one of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import data
from tests.dashboard.lakes import SampleLake, copy_lake, two_runs
from tests.landing import BUCKETS
from twinlake.catalog import Lake
from twinlake.compare import GoldHashes
from twinlake.store import LocalStore, ObjectStore

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGES = ("views/overview.py", "views/quality.py", "views/runs.py", "views/engines.py", "views/benchmark.py")


@pytest.fixture(scope="session")
def two_run_lake(tmp_path_factory: pytest.TempPathFactory) -> SampleLake:
    """Two succeeded Pandas runs of two generated data sets (300 and 500 rows per file); never changed."""
    root = tmp_path_factory.mktemp("two-run-lake")
    lake = SampleLake(root / "store", LocalStore(root / "store"))
    two_runs(lake, root / "generated")
    return lake


@pytest.fixture
def lake(two_run_lake: SampleLake, tmp_path: Path) -> SampleLake:
    """A private copy of the two-run lake, which the test may change."""
    return copy_lake(two_run_lake, tmp_path / "lake")


@pytest.fixture
def read_from(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[ObjectStore], None]]:
    """Point the dashboard at a store (with fresh caches: each test sees only its own lake)."""

    def point(store: ObjectStore) -> None:
        lake = Lake(store, BUCKETS)
        monkeypatch.setattr(data, "open_source", lambda: data.Source(lake, GoldHashes(lake), "the test lake"))
        st.cache_data.clear()
        st.cache_resource.clear()

    yield point
    st.cache_data.clear()
    st.cache_resource.clear()


def open_app(page: str | None = None) -> AppTest:
    """The app after its first run, on `page` (a path under dashboard/, e.g. views/runs.py) if given."""
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    if page is not None:
        app.switch_page(page).run()
    return app


def no_exception(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]
