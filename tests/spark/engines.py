"""Run both engines' `execute_run` on the same local CSV files, each on a folder-backed store, for equivalence tests.

The files are put into the store's landing bucket; the run is each engine's own (the Pandas engine's
`jobs.pandas_engine.run.execute_run`, the Spark engine's `jobs.spark_engine.run.execute_run` at file:// URIs), and
what a test compares is read back from the store: the tables as the run wrote them and the counts its manifest
recorded.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from jobs.runs import RunOutcome, RunRequest
from twinlake.datasets import DatasetName
from twinlake.gold import GOLD_TABLES
from twinlake.inputs import list_landing
from twinlake.layout import Buckets, RunLayout
from twinlake.manifest import DatasetCounts
from twinlake.store import LocalStore
from twinlake.tables import read_table

LANDING = "landing"
BUCKETS = Buckets(bronze="bronze", silver="silver", gold="gold")
STARTED_AT = datetime(2026, 11, 26, 12, tzinfo=UTC)


@dataclass
class EngineOutput:
    clean: dict[DatasetName, pa.Table]
    rejected: dict[DatasetName, pa.Table]
    counts: dict[DatasetName, DatasetCounts]
    gold: dict[str, pa.Table]


def landed_store(root: Path, files: Mapping[DatasetName, list[Path]]) -> LocalStore:
    """A folder-backed store whose landing bucket holds `files` (keys `<dataset>/<file name>`)."""
    store = LocalStore(root)
    for name, paths in files.items():
        for path in paths:
            store.put(LANDING, f"{name}/{path.name}", path.read_bytes())
    return store


def request_for(store: LocalStore, reference_date: date) -> RunRequest:
    return RunRequest(list_landing(store, LANDING), reference_date, STARTED_AT)


def outputs_of(store: LocalStore, outcome: RunOutcome) -> EngineOutput:
    """The tables a succeeded run wrote and the counts its manifest recorded."""
    manifest = outcome.manifest
    assert manifest.succeeded, manifest.error
    layout = RunLayout(BUCKETS, manifest.engine, manifest.run_id)
    return EngineOutput(
        clean={n: read_table(store, layout.silver(n)).replace_schema_metadata(None) for n in DatasetName},
        rejected={n: read_table(store, layout.silver_rejected(n)).replace_schema_metadata(None) for n in DatasetName},
        counts=dict(manifest.datasets),
        gold={t.name: read_table(store, layout.gold(t.name)).replace_schema_metadata(None) for t in GOLD_TABLES},
    )


def run_pandas(files: Mapping[DatasetName, list[Path]], reference_date: date) -> EngineOutput:
    from jobs.pandas_engine.run import execute_run

    with tempfile.TemporaryDirectory(prefix="twinlake-pandas-") as root:
        store = landed_store(Path(root), files)
        return outputs_of(store, execute_run(store, LANDING, BUCKETS, request_for(store, reference_date)))


def run_spark(spark: Any, files: Mapping[DatasetName, list[Path]], reference_date: date, out: Path) -> EngineOutput:
    from jobs.spark_engine.run import execute_run

    store = landed_store(out, files)
    return outputs_of(store, execute_run(spark, store, LANDING, BUCKETS, request_for(store, reference_date)))
