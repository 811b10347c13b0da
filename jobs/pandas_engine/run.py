"""One run of the Pandas engine: an input set in, Bronze/Silver/Gold tables, a manifest and the pointers out.

Any failure (a bad file, a store error, a bug) still ends in a `failed` manifest with the reason (`jobs.runs`), so
a run always ends recorded and the pointers keep naming the last complete run.
"""

from __future__ import annotations

import logging
import platform
from datetime import date
from importlib.metadata import version

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from jobs.pandas_engine.arrow_schema import bronze_schema, rejected_schema, silver_schema
from jobs.pandas_engine.bronze import read_bronze
from jobs.pandas_engine.gold import build_gold
from jobs.pandas_engine.silver import build_silver
from jobs.pandas_engine.tables import TableWriter
from jobs.runs import (
    CleanIds,
    LayerTimer,
    RunFailure,
    RunOutcome,
    RunRequest,
    RunResults,
    SilverOutput,
    fetch_input,
    per_dataset,
    record_run,
    run_silver,
)
from twinlake.datasets import DATASETS, Dataset, DatasetName
from twinlake.gold import GOLD_TABLES_BY_NAME
from twinlake.layout import Buckets, Engine, RunLayout
from twinlake.manifest import InputObject
from twinlake.store import ObjectStore
from twinlake.tables import table_content_hash

log = logging.getLogger(__name__)
ENGINE = Engine.PANDAS


def engine_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
        "numpy": np.__version__,
        "twinlake": version("twinlake"),
    }


def execute_run(store: ObjectStore, landing_bucket: str, buckets: Buckets, request: RunRequest) -> RunOutcome:
    """Run the whole pipeline on `request.inputs`; never raises for bad data, always records a manifest."""
    layout = RunLayout(buckets, ENGINE, request.run_id)
    timer, results, failure = LayerTimer(), RunResults(), None
    try:
        with TableWriter(store) as writer:
            bronze = _bronze(store, landing_bucket, layout, request.inputs, writer)
            timer.lap("bronze")
            silver = _silver(writer, layout, bronze, request.reference_date)
            results.counts = {name: result.counts for name, result in silver.items()}
            timer.lap("silver")
            results.gold_row_counts, results.gold_table_hashes = _gold(writer, layout, silver)
            writer.wait()  # every table is in the store before the manifest says so
            timer.lap("gold")
    except Exception as exc:  # the run must end recorded, whatever went wrong
        log.exception("pandas run %s failed", request.run_id)
        failure = RunFailure.of(exc)
    return record_run(store, layout, request, engine_versions(), results, timer, failure)


def _bronze(
    store: ObjectStore, landing_bucket: str, layout: RunLayout, inputs: tuple[InputObject, ...], writer: TableWriter
) -> dict[DatasetName, pd.DataFrame]:
    """Read every input object (pinned by ETag) and write each dataset's Bronze table."""
    frames = [
        (source, read_bronze(DATASETS[source.dataset], source, fetch_input(store, landing_bucket, source)))
        for source in inputs
    ]
    bronze: dict[DatasetName, pd.DataFrame] = {}
    for dataset, parts in per_dataset(frames, lambda part: part[0].dataset):
        bronze[dataset.name] = pd.concat([frame for _, frame in parts], ignore_index=True)
        table = pa.Table.from_pandas(bronze[dataset.name], preserve_index=False).cast(bronze_schema(dataset))
        writer.write(layout.bronze(dataset.name), table)
    return bronze


PandasSilver = SilverOutput[pd.DataFrame, npt.NDArray[np.int64]]


def _silver(
    writer: TableWriter, layout: RunLayout, bronze: dict[DatasetName, pd.DataFrame], reference_date: date
) -> dict[DatasetName, PandasSilver]:
    def step(dataset: Dataset, clean_ids: CleanIds[npt.NDArray[np.int64]]) -> PandasSilver:
        result = build_silver(dataset, bronze[dataset.name], reference_date, clean_ids)
        clean = pa.Table.from_pandas(result.clean, preserve_index=False).cast(silver_schema(dataset))
        rejected = pa.Table.from_pandas(result.rejected, preserve_index=False).cast(rejected_schema(dataset))
        writer.write(layout.silver(dataset.name), clean)
        writer.write(layout.silver_rejected(dataset.name), rejected)
        ids = result.clean[dataset.id_column].to_numpy(dtype=np.int64)
        return SilverOutput(result.clean, result.counts, ids)

    return run_silver(step)


def _gold(
    writer: TableWriter, layout: RunLayout, silver: dict[DatasetName, PandasSilver]
) -> tuple[dict[str, int], dict[str, str]]:
    """Build and write every Gold table; returns their row counts and content hashes (hashed beside the writes)."""
    tables = build_gold(
        silver[DatasetName.CLIENTS].clean,
        silver[DatasetName.PURCHASES].clean,
        silver[DatasetName.PROMOTIONS].clean,
        {name: result.counts for name, result in silver.items()},
    )
    hashes = {}
    for name, table in tables.items():
        writer.write(layout.gold(name), table)
        hashes[name] = writer.submit(table_content_hash, table, GOLD_TABLES_BY_NAME[name])
    return {name: table.num_rows for name, table in tables.items()}, {n: h.result() for n, h in hashes.items()}
