"""S3Store and the pointer protocol against the real S3 store of the local stack (versitygw).

Needs `make stack-up`. Every test works under a unique prefix of the gold bucket (or, to publish, in a scratch
bucket of its own) and deletes it afterwards, so other users of the stack neither disturb nor see it. The last
test probes whether concurrent conditional writes are atomic on this server; it is reported as an expected
failure (xfail) with the measured counts when they are not.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config

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
from twinlake.settings import Settings
from twinlake.store import NotFound, PreconditionFailed, S3Store, StoredObject, md5_etag

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
RACE_WRITERS = 16


@pytest.fixture(scope="module")
def settings(request: pytest.FixtureRequest) -> Settings:
    """The `stack_settings` fixture when the integration conftest has one, else `Settings.load()`."""
    try:
        found: Settings = request.getfixturevalue("stack_settings")
    except pytest.FixtureLookupError:
        return Settings.load()
    return found


@pytest.fixture(scope="module")
def client(settings: Settings) -> Any:
    try:
        from twinlake.s3 import s3_client  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint,
            aws_access_key_id=settings.s3_access_key.get_secret_value(),
            aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
            region_name=settings.s3_region,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
        )
    return s3_client(settings)


@pytest.fixture
def s3(client: Any) -> S3Store:
    return S3Store(client)


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
def scratch_bucket(s3: S3Store) -> Iterator[str]:
    """A bucket of its own, so publishing does not touch the pipeline's real pointers; removed afterwards."""
    name = f"twinlake-test-{uuid.uuid4().hex[:12]}"
    s3.client.create_bucket(Bucket=name)
    yield name
    s3.delete_prefix(name, "")
    s3.client.delete_bucket(Bucket=name)


def test_write_manifest_and_publish_run(s3: S3Store, scratch_bucket: str) -> None:
    gold = scratch_bucket
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


def _race(writers: int, write: Any) -> tuple[int, int, list[BaseException]]:
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
    return len(wins), len(losses), errors


def test_concurrent_conditional_writes_have_one_winner(s3: S3Store, settings: Settings, prefix: str) -> None:
    """Probe: N simultaneous create-only writes, then N simultaneous If-Match writes on the same ETag.

    S3 lets exactly one of each through. versitygw v1.7.0's posix backend evaluates the precondition before it
    stages the body and publishes the object later, without a per-key lock, so several writers can win (made
    atomic upstream by versity/versitygw#2288). Reported as xfail with the counts when that happens.
    """
    gold = settings.gold_bucket
    outcomes: list[str] = []
    body = b"x" * 256 * 1024  # large enough to widen the window between the check and the publication
    for round_ in range(5):
        key = f"{prefix}race-{round_}"

        wins, losses, errors = _race(RACE_WRITERS, lambda n, k=key: s3.put_if_absent(gold, k, body + bytes([n])))
        assert errors == []
        outcomes.append(f"If-None-Match round {round_}: {wins} winner(s), {losses} x 412")

        etag = s3.get(gold, key).etag
        wins2, losses2, errors2 = _race(
            RACE_WRITERS, lambda n, k=key, e=etag: s3.put_if_match(gold, k, body + bytes([100 + n]), e)
        )
        assert errors2 == []
        outcomes.append(f"If-Match round {round_}: {wins2} winner(s), {losses2} x 412")
    print("\n".join(outcomes))
    if any(not line.split(": ")[1].startswith("1 winner") for line in outcomes):
        pytest.xfail("concurrent conditional PUTs are not atomic on this store: " + "; ".join(outcomes))
