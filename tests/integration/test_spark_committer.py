"""The Spark engine's session commits s3a output with the S3A magic committer on the real store.

A child process builds the engine's session (`build_session` with the stack's settings, the connector jars) with
the committers' `_SUCCESS` summary switched on, writes a small table to the gold bucket and reads it back; the
summary is the committer's own record: it names the committer and counts what it did. The magic committer wrote
each file once, as a multipart upload completed at job commit: no copy, no rename, no `__magic` folder left.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from twinlake.s3 import s3_client
from twinlake.settings import Settings
from twinlake.store import S3Store

pytestmark = [pytest.mark.integration, pytest.mark.spark]
pytest.importorskip("pyspark", reason="the `spark` extra is not installed")
REPO = Path(__file__).resolve().parents[2]
WRITE = """
import sys
from jobs.spark_engine.session import build_session
from twinlake.settings import Settings, StoreRole
spark = build_session(Settings.load(role=StoreRole.ENGINES), "local[2]", "committer-test",
                      extra={"spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "true"})
target = sys.argv[1]
spark.range(1000).repartition(3).write.parquet(target)
print("rows", spark.read.parquet(target).count())
spark.stop()
"""


def test_spark_writes_each_file_once_through_the_magic_committer(stack_settings: Settings) -> None:
    store = S3Store(s3_client(stack_settings))
    prefix = f"_tests/committer-{uuid.uuid4().hex[:8]}/"
    gold = stack_settings.gold_bucket
    try:
        done = subprocess.run(
            [sys.executable, "-c", WRITE, f"s3a://{gold}/{prefix}"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=420,
            check=False,
        )
        assert done.returncode == 0 and "rows 1000" in done.stdout, done.stderr[-3000:]
        summary = json.loads(store.get(gold, prefix + "_SUCCESS").body)
        assert summary["committer"] == "magic"
        counters = summary["iostatistics"]["counters"]
        assert counters["committer_commits_completed"] == len(summary["filenames"]) == 3
        assert counters["object_multipart_initiated"] == 3
        assert not any(v for k, v in counters.items() if "copy" in k or "rename" in k), counters
        keys = [o.key.removeprefix(prefix) for o in store.list(gold, prefix)]
        assert sum(k.endswith(".parquet") for k in keys) == 3
        assert not any("__magic" in k or "_temporary" in k for k in keys), keys
    finally:
        store.delete_prefix(gold, prefix)
