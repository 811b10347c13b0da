"""Fixtures of the chart tests: the pinned helm (built once with `go install`, then cached) and the renders."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.chart.render import REPO, VERSITYGW_VALUES, helm_template

sys.path.insert(0, str(REPO / "scripts"))
import tools


@pytest.fixture(scope="session")
def helm() -> Path:
    """The helm binary pinned in scripts/tools.py; a build failure fails the tests (never skips)."""
    try:
        return tools.helm(quiet=True)
    except tools.ToolError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def rendered(helm: Path) -> dict[str, list[dict[str, Any]]]:
    """The chart rendered with its default values (MinIO) and with the versitygw switch."""
    return {"minio": helm_template(helm), "versitygw": helm_template(helm, values=VERSITYGW_VALUES)}


@pytest.fixture(scope="session")
def spark_application_crd() -> Path:
    try:
        return tools.spark_operator_crd()
    except tools.ToolError as exc:
        pytest.fail(str(exc), pytrace=False)
