"""Both engines as real processes on the real stack, after a crash between writing a run's manifest and moving the
pointers: the restarted engine rolls the pointer forward to the recorded run instead of computing it again."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from tests.processes import REPO, engine_env
from tests.stack_probe import load_role
from twinlake.catalog import Lake
from twinlake.inputs import input_fingerprint, list_landing
from twinlake.layout import Engine, Location
from twinlake.s3 import s3_client
from twinlake.settings import Settings, StoreRole
from twinlake.store import S3Store

pytestmark = [pytest.mark.integration, pytest.mark.spark]
AS_OF = date(2026, 11, 26)


def once(engine: Engine) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", f"jobs.{engine}_engine", "--once"]
    return subprocess.run(command, cwd=REPO, env=engine_env(AS_OF), capture_output=True, text=True, timeout=600)


def test_a_run_recorded_before_the_pointer_moved_is_rolled_forward_by_both_engines(
    stack_settings: Settings, generated_landing: Callable[..., Path]
) -> None:
    store = S3Store(s3_client(stack_settings))
    uploader = S3Store(s3_client(load_role(StoreRole.UPLOADER)))  # lands and clears the files
    lake = Lake(store, stack_settings.lake)
    uploader.delete_prefix(stack_settings.landing_bucket, "")
    generated = generated_landing(200, 5, AS_OF)
    tag = uuid.uuid4().hex[:8]
    for path in generated.glob("*.csv"):
        uploader.put(stack_settings.landing_bucket, f"{path.stem}/{tag}.csv", path.read_bytes())
    fingerprint = input_fingerprint(list_landing(store, stack_settings.landing_bucket))
    pointers = [lake.pointer_location(engine) for engine in (*Engine, None)]
    before = {where: _body(store, where) for where in pointers}

    for engine in Engine:
        done = once(engine)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    recorded = {engine: lake.runs_of_input_set(engine, fingerprint) for engine in Engine}
    assert all(len(runs) == 1 and runs[0].succeeded for runs in recorded.values()), recorded

    # a crash between manifest and pointer: the runs are recorded, the pointers still name what they named before
    for where, body in before.items():
        if body is None:
            store.delete(where.bucket, where.key)
        else:
            store.put(where.bucket, where.key, body)

    for engine in Engine:
        done = once(engine)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        assert "rolled forward" in done.stdout + done.stderr
        runs = Lake(store, stack_settings.lake).runs_of_input_set(engine, fingerprint)
        assert [m.run_id for m in runs] == [recorded[engine][0].run_id], f"{engine} computed the input set again"
        pointer = lake.pointer(engine)
        assert pointer is not None and pointer.run_id == recorded[engine][0].run_id
    uploader.delete_prefix(stack_settings.landing_bucket, "")


def _body(store: S3Store, where: Location) -> bytes | None:
    info = store.head(where.bucket, where.key)
    return None if info is None else store.get(where.bucket, where.key).body
