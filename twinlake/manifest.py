"""Run manifests and latest-run pointers: frozen, versioned models; their JSON is read and written only here.

A run's manifest (`gold/<engine>/<run_id>/_manifest.json`) records what the run read, what it produced and
how it ended. It is written once, last, and never replaced (`write_manifest` is create-only). A
`LatestRunPointer` (`gold/<engine>/latest_run.json`, `gold/latest_run.json`) names the newest successful run;
`twinlake.pointer` moves it.

Both models carry `format_version` and forbid unknown fields: a reader rejects a document it does not know
rather than guess. Datetimes are timezone-aware and normalised to UTC; ETags are stored without HTTP quotes.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    model_validator,
)

from twinlake.datasets import DatasetName
from twinlake.layout import MANIFEST_NAME, Engine, Location, RunLayout, fingerprint
from twinlake.rules import RuleCode
from twinlake.store import ObjectStore, PreconditionFailed, normalize_etag

FORMAT_VERSION: Literal[1] = 1
RUN_ID_PATTERN = r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$"
_RUN_ID = re.compile(RUN_ID_PATTERN)


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
RunId = Annotated[str, Field(pattern=RUN_ID_PATTERN)]
ETag = Annotated[str, AfterValidator(normalize_etag), Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def run_started_at(run_id: str) -> datetime:
    """The UTC start time (to the second) encoded in a run id made by `twinlake.layout.make_run_id`."""
    if not _RUN_ID.match(run_id):
        raise ValueError(f"not a run id: {run_id!r}")
    return datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def manifest_location(gold_bucket: str, engine: Engine, run_id: str) -> Location:
    """Where a run's manifest lives: the key of `RunLayout.manifest`, without needing the other buckets."""
    return Location(gold_bucket, f"{engine}/{run_id}/{MANIFEST_NAME}")


class FailureKind(StrEnum):
    """Why a run failed, which decides whether the same input set is run again.

    - `data`: the inputs (a bad file) or the engine itself; the same input set would fail the same way, so it is
      not run again until it changes;
    - `infrastructure`: the store or the broker unreachable, a timeout; the input set is run again, with back-off.
    """

    DATA = "data"
    INFRASTRUCTURE = "infrastructure"


class InputObject(_Model):
    """One landing object a run read, pinned by its ETag."""

    key: str = Field(min_length=1)
    etag: ETag
    size: NonNegativeInt
    dataset: DatasetName


class DatasetCounts(_Model):
    """Rows of one dataset through Silver: every row read is either clean or rejected."""

    rows_in: NonNegativeInt
    rows_clean: NonNegativeInt
    rows_rejected: NonNegativeInt
    # rows failing each rule code; a rejected row fails at least one rule and may fail several. The codes are
    # written as their string values (`"invalid_email": 3`), as they always were.
    rejected_by_rule: dict[RuleCode, NonNegativeInt] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _rows_add_up(self) -> Self:
        if self.rows_in != self.rows_clean + self.rows_rejected:
            raise ValueError(
                f"rows_in ({self.rows_in}) != rows_clean ({self.rows_clean}) + rows_rejected ({self.rows_rejected})"
            )
        too_many = {code: n for code, n in self.rejected_by_rule.items() if n > self.rows_rejected}
        if too_many:
            raise ValueError(f"rule counts {too_many} exceed rows_rejected ({self.rows_rejected})")
        if sum(self.rejected_by_rule.values()) < self.rows_rejected:
            raise ValueError(
                f"rule counts add up to {sum(self.rejected_by_rule.values())}, fewer than rows_rejected "
                f"({self.rows_rejected}): every rejected row fails at least one rule"
            )
        return self


class LayerSeconds(_Model):
    """Wall-clock seconds spent in each layer, and in the whole run."""

    bronze: NonNegativeFloat
    silver: NonNegativeFloat
    gold: NonNegativeFloat
    total: NonNegativeFloat


TABLE_HASH_PATTERN = r"^sha256:[0-9a-f]{64}$"
TableHash = Annotated[str, Field(pattern=TABLE_HASH_PATTERN)]


class RunManifest(_Model):
    """What one run of one engine read, produced and measured, and how it ended."""

    format_version: Literal[1] = FORMAT_VERSION
    run_id: RunId
    engine: Engine
    versions: dict[str, str]  # library versions, e.g. python, pandas, pyarrow / spark
    status: Literal["succeeded", "failed"]
    error: str | None = None
    # only for a failed run; None in manifests written before failures were told apart (read as `data`)
    failure: FailureKind | None = None
    inputs: list[InputObject]
    input_fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$")
    reference_date: date
    started_at: UtcDatetime
    finished_at: UtcDatetime
    datasets: dict[DatasetName, DatasetCounts] = Field(default_factory=dict)  # partial for a failed run
    gold_row_counts: dict[str, NonNegativeInt] = Field(default_factory=dict)
    # content hash of every Gold table (`twinlake.tables.table_content_hash`): equal hashes, identical tables.
    # Optional, so manifests written before the hashes existed still read; readers compute what is missing.
    gold_table_hashes: dict[str, TableHash] = Field(default_factory=dict)
    seconds: LayerSeconds | None = None
    peak_memory_bytes: NonNegativeInt | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.status == "failed") != (self.error is not None and self.error.strip() != ""):
            raise ValueError("a failed run has an error message, and only a failed run has one")
        if self.failure is not None and self.status != "failed":
            raise ValueError("only a failed run has a failure kind")
        if self.finished_at < self.started_at:
            raise ValueError(f"finished_at ({self.finished_at}) is before started_at ({self.started_at})")
        expected = fingerprint((i.key, i.etag) for i in self.inputs)
        if self.input_fingerprint != expected:
            raise ValueError(f"input_fingerprint {self.input_fingerprint} is not the fingerprint of inputs")
        if not self.run_id.endswith("-" + self.input_fingerprint[:6]):
            raise ValueError(f"run_id {self.run_id} does not end with its input fingerprint's first 6 digits")
        return self

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def retryable(self) -> bool:
        """A failed run whose input set is to be run again (the store or the broker failed, not the data)."""
        return self.failure is FailureKind.INFRASTRUCTURE

    def to_json(self) -> bytes:
        return self.model_dump_json(indent=2).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes | str) -> RunManifest:
        return cls.model_validate_json(data)


class LatestRunPointer(_Model):
    """Names the newest successful run: where its Gold tables are and where its manifest is."""

    format_version: Literal[1] = FORMAT_VERSION
    run_id: RunId
    engine: Engine
    gold_prefix: str  # s3://<gold bucket>/<engine>/<run_id>/
    generated_at: UtcDatetime
    manifest: str  # key of the manifest inside the gold bucket: <engine>/<run_id>/_manifest.json

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        run = f"{self.engine}/{self.run_id}/"
        if not (self.gold_prefix.startswith("s3://") and self.gold_prefix.endswith("/" + run)):
            raise ValueError(f"gold_prefix {self.gold_prefix!r} is not s3://<gold bucket>/{run}")
        if self.manifest != run + MANIFEST_NAME:
            raise ValueError(f"manifest {self.manifest!r} is not {run + MANIFEST_NAME}")
        return self

    @classmethod
    def for_run(
        cls, gold_bucket: str, engine: Engine, run_id: str, generated_at: datetime | None = None
    ) -> LatestRunPointer:
        """The pointer to one run's Gold tables and manifest (`generated_at` defaults to now)."""
        return cls(
            run_id=run_id,
            engine=engine,
            gold_prefix=Location(gold_bucket, f"{engine}/{run_id}/").uri(),
            generated_at=generated_at or datetime.now(UTC),
            manifest=manifest_location(gold_bucket, engine, run_id).key,
        )

    @property
    def gold_bucket(self) -> str:
        return self.gold_prefix.removeprefix("s3://").split("/", 1)[0]

    def to_json(self) -> bytes:
        return self.model_dump_json(indent=2).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes | str) -> LatestRunPointer:
        return cls.model_validate_json(data)


class ManifestExists(PreconditionFailed):
    """A manifest is already written for this run: manifests are immutable."""


def write_manifest(store: ObjectStore, layout: RunLayout, manifest: RunManifest) -> str:
    """Write a run's manifest, create-only, and return its ETag; raises `ManifestExists` if one is there."""
    if (layout.engine, layout.run_id) != (manifest.engine, manifest.run_id):
        raise ValueError(
            f"manifest of {manifest.engine}/{manifest.run_id} does not belong to {layout.engine}/{layout.run_id}"
        )
    where = layout.manifest
    try:
        return store.put_if_absent(where.bucket, where.key, manifest.to_json())
    except PreconditionFailed as exc:
        raise ManifestExists(f"{where.uri()} already exists: manifests are immutable") from exc


def read_manifest(store: ObjectStore, location: Location) -> RunManifest:
    """Read and validate a manifest; raises `twinlake.store.NotFound` if it is not there."""
    return RunManifest.from_json(store.get(location.bucket, location.key).body)
