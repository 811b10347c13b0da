"""Every read the dashboard makes, and how long it keeps what it read.

Pages never touch the store: they call the functions below, which read only through the `twinlake` contract
(`Lake`, `read_table`, `GoldHashes`, the benchmark results) and cache by what never changes:

- the store client, the `Lake` (which keeps every manifest it has read) and the Gold hashes: one per process;
- a pointer: one second, so a page reads it once per rerun and the live refresh once per tick;
- the run history: until a pointer moves, and at most `HISTORY_SECONDS` (a failed run moves no pointer);
- a run's Gold aggregates, its rejected rows and the comparison of two runs: forever, by (engine, run_id),
  because a run never changes once its manifest is written.

A read that fails raises `LakeProblem` (what could not be read, why, and what to do next), which the app shows
instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import streamlit as st
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from twinlake.benchmarks import BenchmarkPointer, BenchmarkResults, latest_benchmark
from twinlake.catalog import Lake, RunNotFound, RunRef
from twinlake.compare import GoldHashes, RunComparison, compare_runs
from twinlake.datasets import DATASETS, LINEAGE_COLUMNS, REASONS, DatasetName
from twinlake.gold import GOLD_TABLES
from twinlake.layout import Engine
from twinlake.manifest import LatestRunPointer, RunManifest
from twinlake.s3 import s3_client
from twinlake.settings import MissingSetting, Settings, StoreRole
from twinlake.store import NotFound, S3Store, StoreError
from twinlake.tables import TableNotFound, read_table

LIVE_SECONDS = 2.0  # how often an open page checks the pointers
HISTORY_SECONDS = 10.0  # longest a run listing is kept while no pointer moves (a failed run moves none)
# Gold tables a page may read whole: the aggregates. Facts and dim_client are as large as the input.
AGGREGATES = frozenset(t.name for t in GOLD_TABLES) - {"fact_purchase", "fact_promotion", "dim_client", "dim_date"}


class LakeProblem(RuntimeError):
    """A read the dashboard could not make: what, why, and the next step for the user."""

    def __init__(self, title: str, reason: str, next_step: str) -> None:
        super().__init__(f"{title}: {reason}")
        self.title, self.reason, self.next_step = title, reason, next_step


@dataclass(frozen=True)
class Source:
    """The lake the dashboard reads, and where it is (for messages)."""

    lake: Lake
    hashes: GoldHashes
    where: str


def open_source() -> Source:
    """The lake named by the settings, read with the dashboard's read-only store role."""
    settings = Settings.load(role=StoreRole.DASHBOARD)
    lake = Lake(S3Store(s3_client(settings)), settings.lake)
    return Source(lake, GoldHashes(lake), f"{settings.s3_endpoint} (bucket {settings.gold_bucket})")


@st.cache_resource(show_spinner=False)
def source() -> Source:
    try:
        return open_source()
    except MissingSetting as exc:
        raise LakeProblem(
            "The dashboard has no store credentials", str(exc), "Run `make stack-up`, then retry."
        ) from exc


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Turn the failures of a read into a `LakeProblem` that says what could not be read."""
    try:
        yield
    except (RunNotFound, TableNotFound, NotFound) as exc:
        raise LakeProblem(
            f"{what} is no longer in the lake", str(exc), "Retry: the page reads the lake as it is now."
        ) from exc
    except ValidationError as exc:
        raise LakeProblem(
            f"{what} is not a document this dashboard can read",
            f"{exc.error_count()} validation error(s); first: {exc.errors()[0]['msg']}",
            "Check which twinlake version wrote it.",
        ) from exc
    except (BotoCoreError, ClientError, StoreError, OSError) as exc:
        raise LakeProblem(
            f"Could not read {what} from the store at {source().where}",
            f"{type(exc).__name__}: {exc}",
            "Check that the store is up (`make stack-status`; `make stack-up` starts it), then retry.",
        ) from exc


# -- pointers and runs ----------------------------------------------------------------------------------------


@st.cache_data(ttl=1.0, show_spinner=False)
def pointer(engine: Engine | None) -> LatestRunPointer | None:
    """The run a pointer names now (the engine's, or the global one for None); None before the first success."""
    lake = source().lake
    with reading(f"the pointer {lake.pointer_location(engine).uri()}"):
        return lake.pointer(engine)


def watermark(engines: tuple[Engine, ...]) -> tuple[str | None, ...]:
    """The runs the engines' pointers name: a run history is current while these stay the same."""
    return tuple(None if (p := pointer(e)) is None else p.run_id for e in engines)


@st.cache_data(ttl=HISTORY_SECONDS, show_spinner=False)
def _history(engine: Engine | None, mark: tuple[str | None, ...]) -> list[RunManifest]:
    """`mark` only keys the cache: a moved pointer lists the runs again at once."""
    lake = source().lake
    with reading("the run manifests"):
        return lake.runs(engine)


def history(engine: Engine | None = None) -> list[RunManifest]:
    """Every recorded run (succeeded or failed) of one engine, or of both for None, newest first."""
    engines = tuple(Engine) if engine is None else (engine,)
    mark = watermark(engines)
    return _history(engine, mark)


def manifest(run: RunRef) -> RunManifest:
    lake = source().lake
    with reading(f"the manifest of run {run}"):
        return lake.manifest(run)


def previous_succeeded(runs: list[RunManifest], current: RunManifest) -> RunManifest | None:
    """The engine's succeeded run just before `current` in a history (newest first), as `Lake.previous_run`."""
    before = (current.started_at, current.run_id)
    older = [m for m in runs if m.succeeded and m.engine == current.engine and (m.started_at, m.run_id) < before]
    return older[0] if older else None


# -- one run's tables -----------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=512)
def aggregate(engine: Engine, run_id: str, table: str) -> pd.DataFrame:
    """A Gold aggregate of a run, whole (aggregates are small; facts are never read whole)."""
    if table not in AGGREGATES:
        raise ValueError(f"{table} is not a Gold aggregate: pages never read a fact table whole")
    lake = source().lake
    run = RunRef(engine, run_id)
    with reading(f"table {table} of run {run}"):
        frame: pd.DataFrame = read_table(lake.store, lake.layout(run).gold(table)).to_pandas()
    return frame


def _failing_any(rules: tuple[str, ...]) -> Callable[[pa.RecordBatch], pa.Array]:
    """A row filter keeping the rejected rows that fail at least one of `rules`."""
    wanted = pa.array(rules, pa.string())

    def mask(batch: pa.RecordBatch) -> pa.Array:
        reasons = batch.column(REASONS)
        hits = pc.is_in(pc.list_flatten(reasons), value_set=wanted)
        rows = pc.filter(pc.list_parent_indices(reasons), hits)
        return pc.is_in(pa.array(range(batch.num_rows), pa.int64()), value_set=pc.cast(rows, pa.int64()))

    return mask


@st.cache_data(show_spinner=False, max_entries=64)
def rejected_rows(
    engine: Engine, run_id: str, dataset: DatasetName, rules: tuple[str, ...], limit: int
) -> pd.DataFrame:
    """The first `limit` rejected rows of a dataset (failing any of `rules`; every rule for an empty tuple), with
    their raw text, lineage and every reason, read with a projection and a row limit."""
    lake = source().lake
    run = RunRef(engine, run_id)
    columns = [*DATASETS[dataset].column_names, *LINEAGE_COLUMNS, REASONS]
    where = _failing_any(rules) if rules else None
    with reading(f"the rejected {dataset} of run {run}"):
        table = read_table(
            lake.store,
            lake.layout(run).silver_rejected(dataset),
            columns=columns,
            limit=limit,
            where=where,
        )
    frame: pd.DataFrame = table.to_pandas()
    frame[REASONS] = frame[REASONS].map(lambda reasons: ", ".join(reasons))
    return frame


# -- two runs -------------------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=256)
def comparison(a: RunRef, b: RunRef) -> RunComparison:
    """Two runs compared table by table (content hashes, computed once per run when a manifest has none)."""
    found = source()
    with reading(f"the Gold tables of runs {a} and {b}"):
        return compare_runs(found.hashes, found.lake.manifest(a), found.lake.manifest(b))


# -- benchmark ------------------------------------------------------------------------------------------------


@st.cache_data(ttl=10.0, show_spinner=False)
def benchmark_pointer() -> BenchmarkPointer | None:
    lake = source().lake
    where = latest_benchmark(lake.buckets.gold)
    with reading(f"the benchmark pointer {where.uri()}"):
        try:
            return BenchmarkPointer.from_json(lake.store.get(where.bucket, where.key).body)
        except NotFound:
            return None


@st.cache_data(show_spinner=False, max_entries=8)
def benchmark_results(bench_id: str, key: str) -> BenchmarkResults:
    """A benchmark's `results.json` (a benchmark never changes once its pointer names it)."""
    lake = source().lake
    with reading(f"the results of benchmark {bench_id}"):
        return BenchmarkResults.from_json(lake.store.get(lake.buckets.gold, key).body)


def latest_benchmark_results() -> BenchmarkResults | None:
    found = benchmark_pointer()
    return None if found is None else benchmark_results(found.bench_id, found.results)
