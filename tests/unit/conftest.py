"""Fixtures shared by the unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.landing import seeded_store
from twinlake.store import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    """A folder-backed store whose landing bucket holds a small valid input set."""
    return seeded_store(tmp_path)
