"""S3Store and the pointer protocol against the real S3 store of the local stack (versitygw).

Needs `make stack-up`. Every test works under a unique prefix of the gold bucket (or, to publish, in a scratch
bucket of its own) and deletes it afterwards, so other users of the stack neither disturb nor see it. The last
test races concurrent conditional writes: the pointer protocol rests on exactly one of them winning.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from twinlake.datasets import DatasetName
from twinlake.layout import Buckets, Engine, Location, RunLayout, engine_pointer, fingerprint, global_pointer
from twinlake.manifest import (
    DatasetCounts,
    InputObject,
    LatestRunPointer,
    ManifestExists,
    RunManifest,
    write_manifest,
)
from twinlake.pointer import (
    PointerConflict,
    PublishRefused,
    advance_pointer,
    commit_pointer,
    publish_run,
    read_pointer,
)
from twinlake.s3 import s3_client
from twinlake.settings import Settings
from twinlake.store import NotFound, PreconditionFailed, S3Store, StoredObject, md5_etag, open_object

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
RACE_WRITERS = 16
RACE_ROUNDS = 10


@pytest.fixture(scope="module")
def settings(stack_settings: Settings) -> Settings:
    """The engines' settings: they write gold (under a test prefix here)."""
    return stack_settings


@pytest.fixture
def s3(settings: Settings) -> S3Store:
    return S3Store(s3_client(settings))


@pytest.fixture
def prefix(s3: S3Store, settings: Settings) -> Iterator[str]:
    """A fresh prefix in the gold bucket, deleted after the test."""
    name = f"_test-store/{uuid.uuid4().hex[:12]}/"
    yield name
    s3.delete_prefix(settings.gold_bucket, name)


def run_id(minute: int) -> str:
    return f"{T0 + timedelta(minutes=minute):%Y%m%dT%H%M%SZ}-{fingerprint([('m', str(minute))])[:6]}"


def pointer(gold: str, minute: int) -> LatestRunPointer:
    return LatestRunPointer.for_run(gold, Engine.PANDAS, run_id(minute), T0 + timedelta(minutes=minute + 1))


def test_put_get_head_list_delete(s3: S3Store, settings: Settings, prefix: str) -> None:
    gold = settings.gold_bucket
    assert s3.head(gold, prefix + "a") is None
    with pytest.raises(NotFound):
        s3.get(gold, prefix + "a")
    etag = s3.put(gold, prefix + "a", b"hello")
    assert etag == md5_etag(b"hello") and '"' not in etag
    got = s3.get(gold, prefix + "a")
    assert (got.body, got.etag) == (b"hello", etag)
    info = s3.head(gold, prefix + "a")
    assert info is not None and (info.etag, info.size) == (etag, 5)

    for key in ["d/2", "d/1", "c", "d/10/x", "b"]:
        s3.put(gold, prefix + key, key.encode())
    paged = S3Store(s3.client, page_size=2)  # several pages
    keys = [i.key.removeprefix(prefix) for i in paged.list(gold, prefix)]
    assert keys == ["a", "b", "c", "d/1", "d/10/x", "d/2"]
    assert all('"' not in i.etag for i in paged.list(gold, prefix))
    s3.delete_prefix(gold, prefix + "d/")
    assert [i.key.removeprefix(prefix) for i in s3.list(gold, prefix)] == ["a", "b", "c"]


def test_folders_ranges_copy_and_delete(s3: S3Store, settings: Settings, prefix: str) -> None:
    gold = settings.gold_bucket
    for key in ["r2/t/part", "r1/_manifest.json", "r1/t/part", "latest_run.json"]:
        s3.put(gold, prefix + key, key.encode())
    paged = S3Store(s3.client, page_size=1)
    assert paged.list_folders(gold, prefix) == [prefix + "r1/", prefix + "r2/"]
    body = bytes(range(256)) * 50
    s3.put(gold, prefix + "blob", body)
    assert s3.read_range(gold, prefix + "blob", 300, 7) == body[300:307]
    assert s3.read_range(gold, prefix + "blob", len(body) - 3, 100) == body[-3:]
    with open_object(s3, gold, prefix + "blob", buffer_size=1000) as handle:
        handle.seek(-10, 2)
        assert handle.read() == body[-10:]
    with pytest.raises(NotFound):
        s3.read_range(gold, prefix + "missing", 0, 1)
    etag = s3.copy(gold, prefix + "blob", gold, prefix + "copy/blob")
    assert s3.get(gold, prefix + "copy/blob") == StoredObject(body=body, etag=etag)
    with pytest.raises(NotFound):
        s3.copy(gold, prefix + "missing", gold, prefix + "copy/missing")
    s3.delete(gold, prefix + "blob")
    s3.delete(gold, prefix + "blob")  # already gone: not an error
    assert s3.head(gold, prefix + "blob") is None


def test_put_if_absent_fails_on_an_existing_key(s3: S3Store, settings: Settings, prefix: str) -> None:
    gold, key = settings.gold_bucket, prefix + "create-only"
    etag = s3.put_if_absent(gold, key, b"first")
    with pytest.raises(PreconditionFailed):
        s3.put_if_absent(gold, key, b"second")
    assert s3.get(gold, key) == StoredObject(body=b"first", etag=etag)


def test_put_if_match_fails_on_a_stale_etag_or_a_missing_key(s3: S3Store, settings: Settings, prefix: str) -> None:
    gold, key = settings.gold_bucket, prefix + "cas"
    first = s3.put(gold, key, b"one")
    second = s3.put_if_match(gold, key, b"two", first)
    assert s3.get(gold, key).body == b"two"
    with pytest.raises(PreconditionFailed):
        s3.put_if_match(gold, key, b"three", first)
    assert s3.get(gold, key).body == b"two"
    assert s3.put_if_match(gold, key, b"three", f'"{second}"') == md5_etag(b"three")
    with pytest.raises(PreconditionFailed):
        s3.put_if_match(gold, prefix + "missing", b"x", first)
    assert s3.head(gold, prefix + "missing") is None


def test_pointer_commit_conflicts(s3: S3Store, settings: Settings, prefix: str) -> None:
    where = Location(settings.gold_bucket, prefix + "latest_run.json")
    etag = commit_pointer(s3, where, pointer(where.bucket, 1), None)
    with pytest.raises(PointerConflict, match=f"expected absent, found {etag}"):
        commit_pointer(s3, where, pointer(where.bucket, 2), None)
    newer = commit_pointer(s3, where, pointer(where.bucket, 2), etag)
    with pytest.raises(PointerConflict, match=f"expected {etag}, found {newer}"):
        commit_pointer(s3, where, pointer(where.bucket, 3), etag)
    assert read_pointer(s3, where) == (pointer(where.bucket, 2), newer)


def test_advance_never_goes_backwards(s3: S3Store, settings: Settings, prefix: str) -> None:
    where = Location(settings.gold_bucket, prefix + "latest_run.json")
    assert advance_pointer(s3, where, pointer(where.bucket, 5)) is True
    before = s3.get(where.bucket, where.key)
    assert advance_pointer(s3, where, pointer(where.bucket, 1)) is False
    assert s3.get(where.bucket, where.key) == before
    assert advance_pointer(s3, where, pointer(where.bucket, 9)) is True
    found = read_pointer(s3, where)
    assert found is not None and found[0].run_id == run_id(9)


def test_two_threads_advancing_end_at_the_newer_run(s3: S3Store, settings: Settings, prefix: str) -> None:
    where = Location(settings.gold_bucket, prefix + "latest_run.json")
    barrier = threading.Barrier(2)

    def advance(minute: int) -> None:
        barrier.wait()
        advance_pointer(s3, where, pointer(where.bucket, minute))

    threads = [threading.Thread(target=advance, args=(m,)) for m in (3, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    found = read_pointer(s3, where)
    assert found is not None and found[0].run_id == run_id(7)


@pytest.fixture
def admin_s3(admin_settings: Settings) -> S3Store:
    """The store's root: only it creates and removes buckets."""
    return S3Store(s3_client(admin_settings))


@pytest.fixture
def scratch_bucket(admin_s3: S3Store) -> Iterator[str]:
    """A bucket of its own (no role is granted it: the root writes there), so publishing does not touch the
    pipeline's real pointers; removed afterwards."""
    name = f"twinlake-test-{uuid.uuid4().hex[:12]}"
    admin_s3.client.create_bucket(Bucket=name)
    yield name
    admin_s3.delete_prefix(name, "")
    admin_s3.client.delete_bucket(Bucket=name)


def test_write_manifest_and_publish_run(admin_s3: S3Store, scratch_bucket: str) -> None:
    s3, gold = admin_s3, scratch_bucket
    inputs = [InputObject(key="clients.csv", etag="abc", size=3, dataset=DatasetName.CLIENTS)]
    fp = fingerprint((i.key, i.etag) for i in inputs)
    manifest = RunManifest(
        run_id=f"{T0:%Y%m%dT%H%M%SZ}-{fp[:6]}",
        engine=Engine.PANDAS,
        versions={"python": "3.11"},
        status="succeeded",
        inputs=inputs,
        input_fingerprint=fp,
        reference_date=date(2026, 11, 26),
        started_at=T0,
        finished_at=T0 + timedelta(seconds=5),
        datasets={DatasetName.CLIENTS: DatasetCounts(rows_in=1, rows_clean=1, rows_rejected=0)},
    )
    layout = RunLayout(Buckets(gold, gold, gold), Engine.PANDAS, manifest.run_id)
    with pytest.raises(PublishRefused, match="not written"):
        publish_run(s3, gold, manifest)
    write_manifest(s3, layout, manifest)
    with pytest.raises(ManifestExists):
        write_manifest(s3, layout, manifest)
    result = publish_run(s3, gold, manifest)
    assert (result.engine_moved, result.global_moved) == (True, True)
    for where in (engine_pointer(gold, Engine.PANDAS), global_pointer(gold)):
        found = read_pointer(s3, where)
        assert found is not None and found[0] == result.pointer
    assert result.pointer.gold_prefix == f"s3://{gold}/pandas/{manifest.run_id}/"
    again = publish_run(s3, gold, manifest)
    assert (again.engine_moved, again.global_moved) == (False, False)


def _race(writers: int, write: Any) -> tuple[list[int], int, list[BaseException]]:
    """Release `writers` threads at once on `write(n)`; (the writers that won, the 412 count, other errors)."""
    barrier = threading.Barrier(writers)
    wins: list[int] = []
    losses: list[int] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        barrier.wait()
        try:
            write(n)
            wins.append(n)
        except PreconditionFailed:
            losses.append(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return wins, len(losses), errors


def test_concurrent_conditional_writes_have_one_winner(s3: S3Store, settings: Settings, prefix: str) -> None:
    """N simultaneous create-only writes, then N simultaneous If-Match writes on the ETag they all read.

    S3 lets exactly one of each through, and the object is the winner's. versitygw v1.7.0 did not (it checked the
    condition before staging the body, without a per-key lock: 2 to 5 winners in 41 of 100 such rounds); v1.8.0
    re-checks it under a per-key publish lock. Ten rounds of each: a store that let a second writer through in
    even a third of the rounds would fail this with near certainty.
    """
    gold = settings.gold_bucket
    body = b"x" * 256 * 1024  # large enough to widen the window between the check and the publication
    for round_ in range(RACE_ROUNDS):
        key = f"{prefix}race-{round_}"

        wins, losses, errors = _race(RACE_WRITERS, lambda n, k=key: s3.put_if_absent(gold, k, body + bytes([n])))
        assert (errors, len(wins), losses) == ([], 1, RACE_WRITERS - 1), f"If-None-Match round {round_}: {wins}"
        stored = s3.get(gold, key)
        assert stored.body == body + bytes(wins)

        wins, losses, errors = _race(
            RACE_WRITERS, lambda n, k=key, e=stored.etag: s3.put_if_match(gold, k, body + bytes([100 + n]), e)
        )
        assert (errors, len(wins), losses) == ([], 1, RACE_WRITERS - 1), f"If-Match round {round_}: {wins}"
        assert s3.get(gold, key).body == body + bytes([100 + wins[0]])
