"""One run of the Pandas engine: an input set in, Bronze/Silver/Gold tables, a manifest and the pointers out.

The manifest is written last and create-only; the pointers move only for a manifest that says `succeeded`. Any
failure (a bad file, a store error, a bug) still writes a `failed` manifest with the reason, so a run always ends
recorded and the pointers keep naming the last complete run.
"""

from __future__ import annotations

import logging
import platform
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import version

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from jobs.metrics import peak_rss_bytes, reset_peak_rss
from jobs.pandas_engine.arrow_schema import bronze_schema, rejected_schema, silver_schema
from jobs.pandas_engine.bronze import read_bronze
from jobs.pandas_engine.gold import build_gold
from jobs.pandas_engine.silver import SilverResult, build_silver
from jobs.pandas_engine.tables import write_table
from twinlake.datasets import DATASETS, DatasetName
from twinlake.inputs import input_fingerprint
from twinlake.layout import Buckets, Engine, RunLayout, make_run_id
from twinlake.manifest import DatasetCounts, InputObject, LayerSeconds, RunManifest, write_manifest
from twinlake.pointer import PublishResult, publish_run
from twinlake.store import ObjectStore

log = logging.getLogger(__name__)
ENGINE = Engine.PANDAS


@dataclass(frozen=True)
class RunRequest:
    """What a run reads (the input set, pinned by ETags) and the reference date its rules use."""

    inputs: tuple[InputObject, ...]
    reference_date: date
    started_at: datetime

    @property
    def fingerprint(self) -> str:
        return input_fingerprint(self.inputs)

    @property
    def run_id(self) -> str:
        return make_run_id(self.started_at, self.fingerprint)


@dataclass(frozen=True)
class RunOutcome:
    manifest: RunManifest
    published: PublishResult | None


def engine_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
        "numpy": np.__version__,
        "twinlake": version("twinlake"),
    }


class _Timer:
    def __init__(self) -> None:
        self.start = self.mark = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.mark, 3)
        self.mark = now

    def seconds(self) -> LayerSeconds:
        laps = {k: self.laps.get(k, 0.0) for k in ("bronze", "silver", "gold")}
        return LayerSeconds(**laps, total=round(time.perf_counter() - self.start, 3))


def execute_run(store: ObjectStore, landing_bucket: str, buckets: Buckets, request: RunRequest) -> RunOutcome:
    """Run the whole pipeline on `request.inputs`; never raises for bad data, always records a manifest."""
    layout = RunLayout(buckets, ENGINE, request.run_id)
    timer = _Timer()
    reset_peak_rss()
    counts: dict[DatasetName, DatasetCounts] = {}
    gold_counts: dict[str, int] = {}
    error: str | None = None
    try:
        bronze = _bronze(store, landing_bucket, layout, request.inputs)
        timer.lap("bronze")
        silver = _silver(store, layout, bronze, request.reference_date)
        counts = {name: result.counts for name, result in silver.items()}
        timer.lap("silver")
        gold_counts = _gold(store, layout, silver)
        timer.lap("gold")
    except Exception as exc:  # the run must end recorded, whatever went wrong
        log.exception("pandas run %s failed", request.run_id)
        error = f"{type(exc).__name__}: {exc}"
    manifest = RunManifest(
        run_id=request.run_id,
        engine=ENGINE,
        versions=engine_versions(),
        status="failed" if error else "succeeded",
        error=error,
        inputs=list(request.inputs),
        input_fingerprint=request.fingerprint,
        reference_date=request.reference_date,
        started_at=request.started_at,
        finished_at=datetime.now(UTC),
        datasets=counts,
        gold_row_counts=gold_counts,
        seconds=timer.seconds(),
        peak_memory_bytes=peak_rss_bytes(),
    )
    write_manifest(store, layout, manifest)
    published = publish_run(store, buckets.gold, manifest) if manifest.succeeded else None
    return RunOutcome(manifest, published)


def _bronze(
    store: ObjectStore, landing_bucket: str, layout: RunLayout, inputs: tuple[InputObject, ...]
) -> dict[DatasetName, pd.DataFrame]:
    """Read every input object (pinned by ETag) and write each dataset's Bronze table."""
    frames: dict[DatasetName, list[pd.DataFrame]] = {name: [] for name in DatasetName}
    for source in inputs:
        obj = store.get(landing_bucket, source.key)
        if obj.etag != source.etag:
            raise RuntimeError(f"{source.key} changed during the run (etag {source.etag} -> {obj.etag})")
        frames[source.dataset].append(read_bronze(DATASETS[source.dataset], source, obj.body))
    bronze: dict[DatasetName, pd.DataFrame] = {}
    for name, parts in frames.items():
        if not parts:
            raise ValueError(f"no input object for dataset {name}")
        bronze[name] = pd.concat(parts, ignore_index=True)
        table = pa.Table.from_pandas(bronze[name], preserve_index=False).cast(bronze_schema(DATASETS[name]))
        write_table(store, layout.bronze(name), table)
    return bronze


def _silver(
    store: ObjectStore, layout: RunLayout, bronze: dict[DatasetName, pd.DataFrame], reference_date: date
) -> dict[DatasetName, SilverResult]:
    """Clients first: purchases and promotions check their client_id against the clean clients."""
    clean_ids: dict[tuple[DatasetName, str], npt.NDArray[np.int64]] = {}
    silver: dict[DatasetName, SilverResult] = {}
    for name in DatasetName:
        dataset = DATASETS[name]
        result = build_silver(dataset, bronze[name], reference_date, clean_ids)
        silver[name] = result
        clean_ids[(name, dataset.id_column)] = result.clean[dataset.id_column].to_numpy(dtype=np.int64)
        clean = pa.Table.from_pandas(result.clean, preserve_index=False).cast(silver_schema(dataset))
        rejected = pa.Table.from_pandas(result.rejected, preserve_index=False).cast(rejected_schema(dataset))
        write_table(store, layout.silver(name), clean)
        write_table(store, layout.silver_rejected(name), rejected)
        log.info(
            "silver %s: %d in, %d clean, %d rejected",
            name,
            result.counts.rows_in,
            result.counts.rows_clean,
            result.counts.rows_rejected,
        )
    return silver


def _gold(store: ObjectStore, layout: RunLayout, silver: dict[DatasetName, SilverResult]) -> dict[str, int]:
    quality = {str(name): result.counts.model_dump() for name, result in silver.items()}
    tables = build_gold(
        silver[DatasetName.CLIENTS].clean,
        silver[DatasetName.PURCHASES].clean,
        silver[DatasetName.PROMOTIONS].clean,
        quality,
    )
    for name, table in tables.items():
        write_table(store, layout.gold(name), table)
    return {name: table.num_rows for name, table in tables.items()}
