"""Moving the latest-run pointers: compare-and-swap on the pointer object's ETag, never backwards.

There are two pointers in the gold bucket, `<engine>/latest_run.json` (newest successful run of that engine)
and `latest_run.json` (newest successful run of any engine). Both move the same way:

- `commit_pointer` is the only write: create-only when no pointer is expected, otherwise If-Match on the ETag
  the writer read. A lost race raises `PointerConflict`.
- `advance_pointer` reads the pointer, does nothing if it already names a run at least as new, and otherwise
  commits against the ETag it read, re-reading and retrying on a conflict. A slow writer holding an older run
  therefore never moves a pointer backwards. `advance_document` is the same protocol for any kind of pointer
  (the benchmark's `gold/benchmarks/latest.json` moves with it).
- `publish_run` points both pointers at a run, and only at a succeeded run whose manifest is in the store.

"Newer" orders runs by the start time in their run id (`YYYYmmddTHHMMSSZ-...`, i.e. by the input snapshot they
read), then by the pointer's `generated_at`, then by run id; a pointer already naming the same run of the same
engine is left alone, so publishing twice is a no-op. The start time comes first so that a long run over
older inputs that finishes late cannot replace a run over newer inputs that finished earlier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from twinlake.layout import Location, engine_pointer, global_pointer
from twinlake.manifest import LatestRunPointer, RunManifest, manifest_location, run_started_at
from twinlake.store import NotFound, ObjectStore, PreconditionFailed


class PointerConflict(RuntimeError):
    """The pointer is not the one the writer read: another writer moved (or created, or deleted) it."""


class PublishRefused(RuntimeError):
    """The run cannot be published: it failed, or its manifest is not in the store as given."""


def run_order(pointer: LatestRunPointer) -> tuple[datetime, datetime, str]:
    """Sort key of the run a pointer names: run start time, then pointer generation time, then run id."""
    return (run_started_at(pointer.run_id), pointer.generated_at, pointer.run_id)


def read_pointer(store: ObjectStore, location: Location) -> tuple[LatestRunPointer, str] | None:
    """The pointer and its ETag, or None if there is none."""
    return read_document(store, location, LatestRunPointer.from_json)


class PointerDocument(Protocol):
    """A pointer's JSON document: a run pointer, or the benchmark pointer (`twinlake.benchmarks`)."""

    def to_json(self) -> bytes: ...


D = TypeVar("D", bound=PointerDocument)


@dataclass(frozen=True)
class PointerKind(Generic[D]):
    """How one kind of pointer is read, what it names (`names`: the same text for the same target) and how its
    targets are ordered (`order`: a pointer only ever moves to a target that sorts higher)."""

    parse: Callable[[bytes], D]
    names: Callable[[D], str]
    order: Callable[[D], tuple[Any, ...]]


def read_document(store: ObjectStore, location: Location, parse: Callable[[bytes], D]) -> tuple[D, str] | None:
    """A pointer document and its ETag, or None if there is none."""
    try:
        stored = store.get(location.bucket, location.key)
    except NotFound:
        return None
    return parse(stored.body), stored.etag


def commit_pointer(store: ObjectStore, location: Location, pointer: PointerDocument, expected_etag: str | None) -> str:
    """Write the pointer if the object is still the one read (`expected_etag`, or absent for None).

    Returns the new ETag; raises `PointerConflict("... expected X, found Y")` if another writer was first.
    """
    body = pointer.to_json()
    try:
        if expected_etag is None:
            return store.put_if_absent(location.bucket, location.key, body)
        return store.put_if_match(location.bucket, location.key, body, expected_etag)
    except PreconditionFailed as exc:
        current = store.head(location.bucket, location.key)
        expected = "absent" if expected_etag is None else expected_etag
        found = "absent" if current is None else current.etag
        raise PointerConflict(f"{location.uri()}: expected {expected}, found {found}") from exc


RUN_POINTER: PointerKind[LatestRunPointer] = PointerKind(
    parse=LatestRunPointer.from_json, names=lambda p: f"run {p.engine}/{p.run_id}", order=run_order
)


def advance_document(
    store: ObjectStore, location: Location, pointer: D, kind: PointerKind[D], retries: int = 5
) -> bool:
    """Move a pointer to `pointer`'s target unless it already names that target or one that sorts at least as
    high. Returns True if this call moved it, False if it was left alone. Re-reads and retries up to `retries`
    times when another writer moves it in between; raises the last `PointerConflict` if it still loses."""
    attempt = 0
    while True:
        current = read_document(store, location, kind.parse)
        if current is not None and (
            kind.names(current[0]) == kind.names(pointer) or kind.order(current[0]) >= kind.order(pointer)
        ):
            return False
        try:
            # The store's conditional write is the whole guarantee: exactly one of concurrent writers that read
            # the same ETag succeeds (tests/integration/test_store_s3.py races it on the local store).
            commit_pointer(store, location, pointer, None if current is None else current[1])
            return True
        except PointerConflict:
            attempt += 1
            if attempt > retries:
                raise


def advance_pointer(store: ObjectStore, location: Location, pointer: LatestRunPointer, retries: int = 5) -> bool:
    """Move the pointer to `pointer`'s run unless it already names a run at least as new.

    Returns True if this call moved it, False if it was left alone (it already names this run or a newer
    one). Re-reads and retries up to `retries` times when another writer moves it in between; raises the last
    `PointerConflict` if it still loses.
    """
    return advance_document(store, location, pointer, RUN_POINTER, retries)


@dataclass(frozen=True)
class PublishResult:
    """What `publish_run` wrote, and which pointers it moved."""

    pointer: LatestRunPointer
    engine_moved: bool
    global_moved: bool


def publish_run(
    store: ObjectStore, gold_bucket: str, manifest: RunManifest, now: datetime | None = None
) -> PublishResult:
    """Point `<engine>/latest_run.json`, then `latest_run.json`, at a succeeded run whose manifest is stored.

    Raises `PublishRefused` for a failed run, or if the stored manifest is missing or differs from `manifest`.
    Both pointers are always advanced (each only forwards), so publishing again after a crash between the two
    is safe.
    """
    where = manifest_location(gold_bucket, manifest.engine, manifest.run_id)
    if manifest.status != "succeeded":
        raise PublishRefused(f"{manifest.engine} run {manifest.run_id} {manifest.status}: not published")
    try:
        stored = RunManifest.from_json(store.get(where.bucket, where.key).body)
    except NotFound as exc:
        raise PublishRefused(f"{where.uri()} is not written: write the manifest before publishing") from exc
    if stored != manifest:
        raise PublishRefused(f"{where.uri()} differs from the manifest being published")
    pointer = LatestRunPointer.for_run(gold_bucket, manifest.engine, manifest.run_id, now or datetime.now(UTC))
    engine_moved = advance_pointer(store, engine_pointer(gold_bucket, manifest.engine), pointer)
    global_moved = advance_pointer(store, global_pointer(gold_bucket), pointer)
    return PublishResult(pointer=pointer, engine_moved=engine_moved, global_moved=global_moved)
