"""Fixtures shared by the unit tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.landing import seeded_store
from twinlake.settings import Settings
from twinlake.store import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    """A folder-backed store whose landing bucket holds a small valid input set."""
    return seeded_store(tmp_path)


@pytest.fixture
def settings() -> Settings:
    """An engine's settings for runs on a folder-backed store (a fixed reference date, the default windows)."""
    return Settings(
        s3_access_key="k",
        s3_secret_key="s",
        reference_date=date(2026, 11, 26),  # type: ignore[arg-type]
        batch_window_seconds=2.0,
        reconcile_seconds=60.0,
    )
