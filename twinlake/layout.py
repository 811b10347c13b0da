"""Object layout of the lake: which landing keys belong to which dataset, and where each layer of a run lives.

Every table is a folder (prefix) of Parquet files, so the Pandas and Spark engines write the same shape:

    bronze/<engine>/<run_id>/<dataset>/
    silver/<engine>/<run_id>/<dataset>/            silver/<engine>/<run_id>/<dataset>_rejected/
    gold/<engine>/<run_id>/<table>/                gold/<engine>/<run_id>/_manifest.json (written last)
    gold/<engine>/latest_run.json                  gold/latest_run.json (newest successful run, any engine)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from twinlake.datasets import DatasetName


class Engine(StrEnum):
    PANDAS = "pandas"
    SPARK = "spark"


MANIFEST_NAME = "_manifest.json"
POINTER_NAME = "latest_run.json"
REJECTED_SUFFIX = "_rejected"


@dataclass(frozen=True)
class Location:
    """A bucket and a key or prefix inside it."""

    bucket: str
    key: str

    def uri(self, scheme: str = "s3") -> str:
        return f"{scheme}://{self.bucket}/{self.key}"


def dataset_for_key(key: str) -> DatasetName | None:
    """Map a landing key to its dataset: `clients.csv` at the root or anything `.csv` under `clients/`.

    Returns None for keys that belong to no dataset (the caller logs why it skips them).
    """
    if not key.lower().endswith(".csv") or key.endswith("/"):
        return None
    parts = key.split("/")
    head = parts[0] if len(parts) > 1 else parts[0][: -len(".csv")]
    try:
        return DatasetName(head)
    except ValueError:
        return None


def make_run_id(started_at: datetime, input_fingerprint: str) -> str:
    """`20261126T153000Z-3f9a1c`: sortable by time, and tied to the input set by its fingerprint."""
    return f"{started_at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{input_fingerprint[:6]}"


def fingerprint(pairs: Iterable[tuple[str, str]]) -> str:
    """A stable hash of an input set given as (key, etag) pairs, independent of their order."""
    digest = hashlib.sha256()
    for key, etag in sorted(pairs):
        digest.update(f"{key}\0{etag.strip(chr(34))}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Buckets:
    bronze: str
    silver: str
    gold: str


@dataclass(frozen=True)
class RunLayout:
    """Where one run of one engine writes each of its tables."""

    buckets: Buckets
    engine: Engine
    run_id: str

    @property
    def _run(self) -> str:
        return f"{self.engine}/{self.run_id}"

    def bronze(self, dataset: DatasetName) -> Location:
        return Location(self.buckets.bronze, f"{self._run}/{dataset}/")

    def silver(self, dataset: DatasetName) -> Location:
        return Location(self.buckets.silver, f"{self._run}/{dataset}/")

    def silver_rejected(self, dataset: DatasetName) -> Location:
        return Location(self.buckets.silver, f"{self._run}/{dataset}{REJECTED_SUFFIX}/")

    @property
    def gold_prefix(self) -> Location:
        return Location(self.buckets.gold, f"{self._run}/")

    def gold(self, table: str) -> Location:
        return Location(self.buckets.gold, f"{self._run}/{table}/")

    @property
    def manifest(self) -> Location:
        return Location(self.buckets.gold, f"{self._run}/{MANIFEST_NAME}")


def engine_pointer(gold_bucket: str, engine: Engine) -> Location:
    return Location(gold_bucket, f"{engine}/{POINTER_NAME}")


def global_pointer(gold_bucket: str) -> Location:
    return Location(gold_bucket, POINTER_NAME)
