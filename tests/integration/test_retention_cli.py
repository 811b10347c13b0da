"""`python -m jobs.retention` on the real store: a dry run lists and keeps, `--apply` deletes, pointers protect."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from twinlake.catalog import Lake
from twinlake.layout import Engine, RunLayout, make_run_id
from twinlake.s3 import s3_client
from twinlake.settings import Settings
from twinlake.store import S3Store

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def retention(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "jobs.retention", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, env={**os.environ, **env}, timeout=120)


def test_an_old_orphan_is_listed_by_a_dry_run_and_deleted_by_apply(stack_settings: Settings) -> None:
    store = S3Store(s3_client(stack_settings))
    lake = Lake(store, stack_settings.lake)
    run_id = make_run_id(datetime.now(UTC) - timedelta(days=3), uuid.uuid4().hex * 2)
    layout = RunLayout(stack_settings.lake, Engine.SPARK, run_id)
    store.put(layout.buckets.bronze, layout.bronze("clients").key + "part-00000.parquet", b"x" * 2048)
    store.put(layout.buckets.silver, layout.silver("clients").key + "part-00000.parquet", b"y" * 1024)
    pointed = {run for run in lake.pointed_runs().values() if run is not None}

    dry = retention()
    assert dry.returncode == 0, dry.stderr
    assert re.search(rf"spark\s+{run_id}\s+orphan\s+no manifest, started 3 days ago", dry.stdout), dry.stdout
    assert "would delete" in dry.stdout
    assert "dry run, nothing deleted" in dry.stdout
    assert store.list(layout.buckets.bronze, f"spark/{run_id}/"), "a dry run deleted something"

    applied = retention("--apply")
    assert applied.returncode == 0, applied.stderr
    assert store.list(layout.buckets.bronze, f"spark/{run_id}/") == []
    assert store.list(layout.buckets.silver, f"spark/{run_id}/") == []
    for run in pointed:  # whatever else it removed, never a run a pointer names
        assert lake.find_manifest(run) is not None, run
    print(f"\n{dry.stdout}")


def test_an_unreachable_store_is_a_short_message_and_exit_code_2() -> None:
    done = retention(TWINLAKE_S3_ENDPOINT="http://127.0.0.1:9")
    assert done.returncode == 2
    assert "cannot reach the S3 store at http://127.0.0.1:9" in done.stderr and "make stack-up" in done.stderr
    assert "Traceback" not in done.stderr
