"""The `twinlake` command on the real local stack: upload, a Pandas run, then every read command on that run; and
the first-hour messages that need a store that answers (Kafka down, wrong keys, a missing bucket)."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from twinlake.catalog import Lake, RunRef
from twinlake.layout import Engine
from twinlake.s3 import s3_client
from twinlake.settings import Settings, StoreRole
from twinlake.store import S3Store
from twinlake.tables import read_table

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
TWINLAKE = str(Path(sys.executable).parent / "twinlake")


def twinlake(*argv: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TWINLAKE, *argv], capture_output=True, text=True, cwd=REPO, env=env or dict(os.environ), timeout=timeout
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def pandas_run(stack_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A new data set uploaded with `twinlake upload`, run once by `twinlake engine pandas --once`."""
    uploader = Settings.load(role=StoreRole.UPLOADER)
    store = S3Store(s3_client(uploader))
    store.delete_prefix(uploader.landing_bucket, "")
    folder = tmp_path_factory.mktemp("cli") / "generated"
    seed = str(random.SystemRandom().randrange(1, 10**9))
    ok(twinlake("generate", "--rows", "2000", "--seed", seed, "--fault-rate", "0.01", "--out", str(folder)))
    uploaded = ok(twinlake("upload", str(folder)))
    assert uploaded.count("s3://landing/") == 3
    ok(twinlake("engine", "pandas", "--once"))
    runs = json.loads(ok(twinlake("runs", "--engine", "pandas", "--format", "json")))
    store.delete_prefix(uploader.landing_bucket, "")
    return {"run": runs[0], "truth": json.loads((folder / "truth.json").read_text())}


def test_runs_shows_the_new_run(pandas_run: dict[str, Any]) -> None:
    run, truth = pandas_run["run"], pandas_run["truth"]
    assert run["status"] == "succeeded" and run["engine"] == "pandas"
    assert run["rows_in"] == 6000 == sum(d["rows_written"] for d in truth["datasets"].values())
    assert run["rows_rejected"] == sum(d["rows_rejected"] for d in truth["datasets"].values())
    assert "pandas" in run["pointers"]


def test_show_reads_the_table_as_stored(pandas_run: dict[str, Any]) -> None:
    run_id = pandas_run["run"]["run"]
    shown = json.loads(ok(twinlake("show", "kpi_by_product", "--run", f"pandas/{run_id}", "-f", "json")))
    reader = Settings.load(role=StoreRole.DASHBOARD)
    lake = Lake(S3Store(s3_client(reader)), reader.lake)
    stored = read_table(lake.store, lake.layout(RunRef(Engine.PANDAS, run_id)).gold("kpi_by_product"))
    assert shown == [
        {k: str(v) if k in ("revenue", "avg_order_value") else v for k, v in r.items()} for r in stored.to_pylist()
    ]
    tables = list(csv.DictReader(io.StringIO(ok(twinlake("show", "--run", run_id)))))
    assert len(tables) == 15 and {t["table"] for t in tables} >= {"kpi_global", "data_quality"}


def test_rejects_and_diff_on_the_stack(pandas_run: dict[str, Any]) -> None:
    run_id, truth = pandas_run["run"]["run"], pandas_run["truth"]
    expected = truth["datasets"]["clients"]["rejected_by_rule"]["invalid_email"]
    rows = list(
        csv.DictReader(
            io.StringIO(ok(twinlake("rejects", "clients", "--rule", "invalid_email", "--run", run_id, "-n", "500")))
        )
    )
    assert len(rows) == expected > 0 and all("invalid_email" in r["_reasons"].split(";") for r in rows)
    assert all(r["_source_key"] == "clients.csv" and int(r["_row_number"]) >= 1 for r in rows)
    done = twinlake("diff", f"pandas/{run_id}", f"pandas/{run_id}")
    assert done.returncode == 0 and "identical: all 15 Gold tables" in done.stderr


def test_reading_parquet_never_aborts_the_exit(pandas_run: dict[str, Any]) -> None:
    """pyarrow's thread pools could abort the interpreter's teardown after a full read (SIGABRT in about a third of
    the runs): the command must end with its own exit code every time, its output whole."""
    run_id = pandas_run["run"]["run"]
    outcomes = [twinlake("rejects", "clients", "--rule", "invalid_email", "--run", run_id) for _ in range(12)]
    assert [done.returncode for done in outcomes] == [0] * 12, outcomes[-1].stderr[-2000:]
    assert len({done.stdout for done in outcomes}) == 1


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_engines_with_kafka_down_name_only_kafka(stack_settings: Settings) -> None:
    env = {**os.environ, "TWINLAKE_KAFKA_BOOTSTRAP": f"127.0.0.1:{closed_port()}"}
    for argv in (["engine", "pandas"], ["engine", "spark"]):
        done = twinlake(*argv, env=env, timeout=120)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert f"cannot reach Kafka at {env['TWINLAKE_KAFKA_BOOTSTRAP']}" in done.stderr
        assert "S3 store" not in done.stderr and "make stack-up" in done.stderr
        assert "session ready" not in done.stdout + done.stderr


def test_wrong_keys_and_a_missing_bucket(stack_settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "clients.csv").write_text("client_id,name,email,signup_date,country\n")
    wrong = {**os.environ, "TWINLAKE_S3_UPLOADER_ACCESS_KEY": "nobody", "TWINLAKE_S3_UPLOADER_SECRET_KEY": "wrong"}
    done = twinlake("upload", str(folder), env=wrong)
    assert done.returncode == 2 and "rejects the access key" in done.stderr and "TWINLAKE_S3_ACCESS_KEY" in done.stderr
    missing = {**os.environ, "TWINLAKE_GOLD_BUCKET": "no-such-gold"}
    done = twinlake("runs", env=missing)
    assert (
        done.returncode == 2 and "has no bucket 'no-such-gold'" in done.stderr and "TWINLAKE_GOLD_BUCKET" in done.stderr
    )
