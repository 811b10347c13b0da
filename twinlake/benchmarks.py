"""Benchmark results in the lake: where they live, the row every lane records, and the pointer to the newest.

    gold/benchmarks/<bench_id>/results.csv     one row per engine lane and drop (the columns below, in order)
    gold/benchmarks/<bench_id>/results.json    the same rows plus the benchmark's parameters (`BenchmarkResults`)
    gold/benchmarks/<bench_id>/report.md, *.png
    gold/benchmarks/<bench_id>/landing-before/ the landing objects as they were before the benchmark replaced them
    gold/benchmarks/latest.json                names the newest complete benchmark (`BenchmarkPointer`)

The benchmark Job writes them (`jobs/benchmark`), the in-process scripts of `benchmarks/` record the same rows,
and the dashboard and retention read them. A row of a failed or timed-out lane carries no time: a figure only
counts for a run that succeeded, and `verified` says whether its results were proven equal to the other lanes'.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, model_validator

from twinlake.layout import Location
from twinlake.pointer import PointerKind, advance_document, read_document
from twinlake.store import ObjectStore

BENCHMARKS_FOLDER = "benchmarks"
RESULTS_CSV = "results.csv"
RESULTS_JSON = "results.json"
REPORT_MD = "report.md"
LANDING_BACKUP = "landing-before"
LATEST_NAME = "latest.json"
BENCH_ID_PATTERN = r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$"
_BENCH_ID = re.compile(BENCH_ID_PATTERN)

BenchId = Annotated[str, Field(pattern=BENCH_ID_PATTERN)]
Lane = Literal["pandas", "spark", "duckdb"]
LaneStatus = Literal["succeeded", "failed", "timeout"]
# `deployed`: the engines as they run (store events, Kafka, the object store, the pointers), timed from the upload;
# `in-process`: an engine's run called in the script's own process on local files (compute and local writes only).
Mode = Literal["deployed", "in-process"]

# The course project's columns come first, in its order, so its readers keep working.
SEED_COLUMNS: tuple[str, ...] = ("engine", "bronze_sec", "silver_sec", "gold_sec", "total_sec", "total_vs_pandas_ratio")
TIME_COLUMNS: tuple[str, ...] = (
    "bronze_sec",
    "silver_sec",
    "gold_sec",
    "total_sec",
    "total_vs_pandas_ratio",
    "landed_to_pointer_sec",
    "rows_per_sec",
)


class BenchmarkRow(BaseModel):
    """One lane (an engine, or the in-process DuckDB reference) on one drop of one benchmark."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    engine: Lane
    bronze_sec: NonNegativeFloat | None = None
    silver_sec: NonNegativeFloat | None = None
    gold_sec: NonNegativeFloat | None = None
    total_sec: NonNegativeFloat | None = None
    total_vs_pandas_ratio: NonNegativeFloat | None = None
    bench_id: BenchId
    rows_per_file: NonNegativeInt
    repeat: NonNegativeInt
    run_id: str | None = None  # the engine's run (None for the DuckDB lane, which makes no run)
    input_fingerprint: str | None = None
    landed_to_pointer_sec: NonNegativeFloat | None = None
    peak_memory_mib: NonNegativeFloat | None = None
    rows_per_sec: NonNegativeFloat | None = None
    status: LaneStatus
    verified: bool = False
    concurrent: bool | None = None  # whether the engines' runs of this drop overlapped in time
    cpu_count: NonNegativeInt
    rows_in: NonNegativeInt | None = None
    rows_clean: NonNegativeInt | None = None
    rows_rejected: NonNegativeInt | None = None
    error: str | None = None
    seed: int | None = None  # the generator seed of the drop's files
    mode: Mode = "deployed"
    # peak resident memory of the engine's whole process tree (the Spark JVM included), sampled while the drop ran;
    # only when the benchmark started the engines as local processes (the manifest's figure is the Python side's)
    process_peak_mib: NonNegativeFloat | None = None

    @model_validator(mode="after")
    def _times_only_when_succeeded(self) -> Self:
        if self.status != "succeeded":
            timed = [c for c in TIME_COLUMNS if getattr(self, c) is not None]
            if timed:
                raise ValueError(f"a {self.status} lane carries no time, but has {', '.join(timed)}")
            if self.verified:
                raise ValueError(f"a {self.status} lane cannot be verified")
        return self


CSV_COLUMNS: tuple[str, ...] = (*SEED_COLUMNS, *(c for c in BenchmarkRow.model_fields if c not in SEED_COLUMNS))


def rows_to_csv(rows: list[BenchmarkRow]) -> bytes:
    """`results.csv`: a header of `CSV_COLUMNS`, then one line per row (empty cells for missing values)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.model_dump().items()})
    return out.getvalue().encode("utf-8")


def rows_from_csv(data: bytes) -> list[BenchmarkRow]:
    """Read `results.csv` back (validated): empty cells are missing values."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8")))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        raise ValueError(f"not a benchmark results file: columns {reader.fieldnames}")
    return [BenchmarkRow.model_validate({k: v for k, v in line.items() if v != ""}) for line in reader]


class BenchmarkResults(BaseModel):
    """`results.json`: a whole benchmark, its parameters and every row."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: Literal[1] = 1
    bench_id: BenchId
    started_at: AwareDatetime
    finished_at: AwareDatetime
    rows_per_file: list[NonNegativeInt]
    repeats: NonNegativeInt
    seed: int
    cpu_count: NonNegativeInt
    rows: list[BenchmarkRow]
    mode: Mode = "deployed"
    complete: bool = True  # False: interrupted (a signal) before every drop ran
    load_average_start: tuple[float, float, float] | None = None  # 1, 5, 15 min: read the figures with it
    load_average_end: tuple[float, float, float] | None = None
    landing_objects: NonNegativeInt | None = None  # objects in landing before the benchmark (kept, then restored)
    landing_restored: bool | None = None
    problems: list[str] = Field(default_factory=list)  # every failed lane, timeout and verification mismatch

    @property
    def verified(self) -> bool:
        """Every engine lane succeeded and was verified."""
        return bool(self.rows) and all(r.status == "succeeded" and r.verified for r in self.rows)

    def to_json(self) -> bytes:
        return self.model_dump_json(indent=2).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes | str) -> BenchmarkResults:
        return cls.model_validate_json(data)


class BenchmarkPointer(BaseModel):
    """`gold/benchmarks/latest.json`: names the newest complete benchmark."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: Literal[1] = 1
    bench_id: BenchId
    generated_at: AwareDatetime
    results: str  # key of results.json in the gold bucket

    def to_json(self) -> bytes:
        return self.model_dump_json(indent=2).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes | str) -> BenchmarkPointer:
        return cls.model_validate_json(data)


def make_bench_id(started_at: datetime, token: str) -> str:
    """`20261201T101500Z-1a2b3c`: sortable by start time, like a run id; `token` is 6 hex digits."""
    bench_id = f"{started_at:%Y%m%dT%H%M%SZ}-{token}"
    if not _BENCH_ID.match(bench_id):
        raise ValueError(f"not a benchmark id: {bench_id!r} (token must be 6 lowercase hex digits)")
    return bench_id


def benchmark_folder(gold_bucket: str, bench_id: str) -> Location:
    """`gold/benchmarks/<bench_id>/`: every file of one benchmark."""
    return Location(gold_bucket, f"{BENCHMARKS_FOLDER}/{bench_id}/")


def benchmark_file(gold_bucket: str, bench_id: str, name: str) -> Location:
    folder = benchmark_folder(gold_bucket, bench_id)
    return Location(folder.bucket, folder.key + name)


def landing_backup(gold_bucket: str, bench_id: str) -> Location:
    """Where the landing objects are kept while a benchmark replaces them (same keys below this prefix)."""
    return benchmark_file(gold_bucket, bench_id, LANDING_BACKUP + "/")


def latest_benchmark(gold_bucket: str) -> Location:
    return Location(gold_bucket, f"{BENCHMARKS_FOLDER}/{LATEST_NAME}")


def bench_started_at(bench_id: str) -> datetime:
    """The UTC start time (to the second) encoded in a benchmark id."""
    if not _BENCH_ID.match(bench_id):
        raise ValueError(f"not a benchmark id: {bench_id!r}")
    return datetime.strptime(bench_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def benchmark_order(pointer: BenchmarkPointer) -> tuple[datetime, datetime, str]:
    """Newer benchmark first by start time, then by the pointer's generation time, then by id (as runs are)."""
    return (bench_started_at(pointer.bench_id), pointer.generated_at, pointer.bench_id)


BENCHMARK_POINTER: PointerKind[BenchmarkPointer] = PointerKind(
    parse=BenchmarkPointer.from_json, names=lambda p: f"benchmark {p.bench_id}", order=benchmark_order
)


def read_benchmark_pointer(store: ObjectStore, gold_bucket: str) -> tuple[BenchmarkPointer, str] | None:
    """`gold/benchmarks/latest.json` and its ETag, or None before the first benchmark."""
    return read_document(store, latest_benchmark(gold_bucket), BenchmarkPointer.from_json)


def publish_benchmark(store: ObjectStore, gold_bucket: str, pointer: BenchmarkPointer, retries: int = 5) -> bool:
    """Move `latest.json` to `pointer`'s benchmark unless it names one at least as new, with the run pointers'
    protocol (`twinlake.pointer.advance_document`: create-only or If-Match on the ETag read, re-read and retry on
    a conflict, read back after the write). Returns whether this call moved it."""
    return advance_document(store, latest_benchmark(gold_bucket), pointer, BENCHMARK_POINTER, retries)
