"""Spark test fixtures: one local SparkSession for the whole test session (start-up costs seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# No importorskip: without pyspark (the `spark` extra, installed by `make venv`) these tests must fail, not vanish.
import pyspark  # noqa: F401
import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from jobs.spark_engine.session import build_session

    # No s3a and no connector jars: these tests read and write local files only.
    session = build_session(None, "local[4]", "twinlake-spark-tests", with_jars=False)
    yield session
    session.stop()
