"""The object stores: LocalStore semantics, S3Store's mapping of S3 answers (stubbed), import hygiene."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.response import StreamingBody
from botocore.stub import Stubber

from twinlake.store import (
    InvalidKey,
    LocalStore,
    NotFound,
    ObjectInfo,
    ObjectStore,
    PreconditionFailed,
    S3Store,
    normalize_etag,
    open_object,
)


def md5(body: bytes) -> str:
    return hashlib.md5(body).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "lake")


def test_local_store_is_an_object_store(store: LocalStore) -> None:
    as_protocol: ObjectStore = store
    assert as_protocol is store


def test_put_get_head(store: LocalStore) -> None:
    assert store.head("gold", "a/b.json") is None
    with pytest.raises(NotFound):
        store.get("gold", "a/b.json")
    etag = store.put("gold", "a/b.json", b"hello")
    assert etag == md5(b"hello")
    got = store.get("gold", "a/b.json")
    assert (got.body, got.etag) == (b"hello", etag)
    assert store.head("gold", "a/b.json") == ObjectInfo(key="a/b.json", etag=etag, size=5)
    assert store.put("gold", "a/b.json", b"bye") == md5(b"bye")
    assert store.get("gold", "a/b.json").body == b"bye"


def test_list_is_sorted_and_filtered_by_prefix(store: LocalStore) -> None:
    for key in ["b/2", "a/1", "b/10", "b/1/x", "c"]:
        store.put("silver", key, key.encode())
    store.put("gold", "b/other", b"")
    assert [i.key for i in store.list("silver")] == ["a/1", "b/1/x", "b/10", "b/2", "c"]
    assert [i.key for i in store.list("silver", "b/1")] == ["b/1/x", "b/10"]
    assert store.list("silver", "zzz") == []
    assert store.list("bronze") == []
    info = store.list("silver", "c")[0]
    assert (info.etag, info.size) == (md5(b"c"), 1)


def test_put_if_absent_is_create_only(store: LocalStore) -> None:
    etag = store.put_if_absent("gold", "p.json", b"one")
    with pytest.raises(PreconditionFailed, match="already exists"):
        store.put_if_absent("gold", "p.json", b"two")
    assert store.get("gold", "p.json").etag == etag


def test_put_if_match(store: LocalStore) -> None:
    first = store.put("gold", "p.json", b"one")
    second = store.put_if_match("gold", "p.json", b"two", first)
    assert store.get("gold", "p.json").body == b"two"
    with pytest.raises(PreconditionFailed):
        store.put_if_match("gold", "p.json", b"three", first)  # stale
    assert store.put_if_match("gold", "p.json", b"three", f'"{second}"') == md5(b"three")  # quotes tolerated
    with pytest.raises(PreconditionFailed, match="does not exist"):
        store.put_if_match("gold", "gone.json", b"x", first)


def test_delete_prefix(store: LocalStore) -> None:
    for key in ["run1/t/part-0", "run1/t/part-1", "run1/_manifest.json", "run10/x", "run2/x"]:
        store.put("gold", key, b"x")
    store.delete_prefix("gold", "run1/")
    assert [i.key for i in store.list("gold")] == ["run10/x", "run2/x"]
    assert not (store.root / "gold" / "run1").exists()  # empty folders pruned
    store.delete_prefix("gold", "nothing/")  # no-op
    store.put("gold", "run1/t/part-0", b"again")  # and the key is writable again
    assert store.get("gold", "run1/t/part-0").body == b"again"


@pytest.mark.parametrize("key", ["", "/abs", "a//b", "a/./b", "../up", "trailing/", "nul\0"])
def test_keys_the_folder_cannot_represent_are_refused(store: LocalStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        store.put("gold", key, b"x")


def test_object_and_prefix_clash_is_refused(store: LocalStore) -> None:
    store.put("gold", "a", b"x")
    with pytest.raises(InvalidKey):
        store.put("gold", "a/b", b"x")
    store.put("gold", "c/d", b"x")
    with pytest.raises(InvalidKey):
        store.put("gold", "c", b"x")
    with pytest.raises(InvalidKey):
        store.put("../etc", "x", b"x")


def test_no_temporary_files_are_listed_or_left(store: LocalStore) -> None:
    for i in range(5):
        store.put("gold", f"k{i}", b"x" * i)
    assert [i.key for i in store.list("gold")] == [f"k{i}" for i in range(5)]
    assert list((store.root / ".store" / "tmp").iterdir()) == []


def test_concurrent_create_only_has_exactly_one_winner(store: LocalStore) -> None:
    writers = 16
    barrier = threading.Barrier(writers)
    winners: list[int] = []
    losers: list[int] = []

    def write(n: int) -> None:
        barrier.wait()
        try:
            store.put_if_absent("gold", "race.json", str(n).encode())
            winners.append(n)
        except PreconditionFailed:
            losers.append(n)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1 and len(losers) == writers - 1
    assert store.get("gold", "race.json").body == str(winners[0]).encode()


def test_concurrent_compare_and_swap_loses_no_update(store: LocalStore) -> None:
    """Threads increment a counter with read + put_if_match, retrying on conflict: no increment is lost."""
    store.put("gold", "counter", b"0")
    threads, increments = 8, 25

    def bump() -> None:
        for _ in range(increments):
            while True:
                current = store.get("gold", "counter")
                try:
                    store.put_if_match("gold", "counter", str(int(current.body) + 1).encode(), current.etag)
                    break
                except PreconditionFailed:
                    continue

    workers = [threading.Thread(target=bump) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert int(store.get("gold", "counter").body) == threads * increments


def test_normalize_etag() -> None:
    assert normalize_etag('"abc"') == "abc"
    assert normalize_etag("abc") == "abc"
    assert normalize_etag(' "abc-2" ') == "abc-2"


# -- S3Store against a stubbed client --------------------------------------------------------------------


@pytest.fixture
def stubbed() -> Any:
    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:1",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"}),
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def body_stream(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def test_s3_get_head_strip_quotes_and_map_missing(stubbed: Any) -> None:
    client, stub = stubbed
    s3 = S3Store(client)
    stub.add_response("get_object", {"Body": body_stream(b"hi"), "ETag": '"e1"'}, {"Bucket": "gold", "Key": "k"})
    stub.add_client_error("get_object", "NoSuchKey", "The key does not exist", 404)
    stub.add_response("head_object", {"ETag": '"e2"', "ContentLength": 7}, {"Bucket": "gold", "Key": "k"})
    stub.add_client_error("head_object", "404", "Not Found", 404)
    stub.add_client_error("get_object", "NoSuchBucket", "no bucket", 404)

    got = s3.get("gold", "k")
    assert (got.body, got.etag) == (b"hi", "e1")
    with pytest.raises(NotFound):
        s3.get("gold", "missing")
    assert s3.head("gold", "k") == ObjectInfo(key="k", etag="e2", size=7)
    assert s3.head("gold", "missing") is None
    with pytest.raises(Exception, match="NoSuchBucket"):  # a missing bucket is not a missing object
        s3.get("nobucket", "k")


def test_s3_conditional_writes_send_the_headers_and_map_errors(stubbed: Any) -> None:
    client, stub = stubbed
    s3 = S3Store(client)
    stub.add_response(
        "put_object", {"ETag": '"new1"'}, {"Bucket": "gold", "Key": "p", "Body": b"x", "IfNoneMatch": "*"}
    )
    stub.add_client_error("put_object", "PreconditionFailed", "At least one precondition failed", 412)
    stub.add_client_error("put_object", "ConditionalRequestConflict", "conflict", 409)
    stub.add_response(
        "put_object", {"ETag": '"new2"'}, {"Bucket": "gold", "Key": "p", "Body": b"y", "IfMatch": '"new1"'}
    )
    stub.add_client_error("put_object", "PreconditionFailed", "At least one precondition failed", 412)
    stub.add_client_error("put_object", "NoSuchKey", "The key does not exist", 404)
    stub.add_client_error("put_object", "AccessDenied", "denied", 403)

    assert s3.put_if_absent("gold", "p", b"x") == "new1"
    with pytest.raises(PreconditionFailed):
        s3.put_if_absent("gold", "p", b"x")
    with pytest.raises(PreconditionFailed):
        s3.put_if_absent("gold", "p", b"x")
    assert s3.put_if_match("gold", "p", b"y", "new1") == "new2"
    with pytest.raises(PreconditionFailed):
        s3.put_if_match("gold", "p", b"z", '"new1"')
    with pytest.raises(PreconditionFailed, match="does not exist"):
        s3.put_if_match("gold", "gone", b"z", "new1")
    with pytest.raises(Exception, match="AccessDenied"):
        s3.put_if_match("gold", "p", b"z", "new2")


def obj(key: str) -> dict[str, Any]:
    return {"Key": key, "ETag": f'"{key}-etag"', "Size": 1}


def test_s3_list_reads_every_page_and_sorts(stubbed: Any) -> None:
    client, stub = stubbed
    s3 = S3Store(client, page_size=2)
    stub.add_response(
        "list_objects_v2",
        {"Contents": [obj("p/b"), obj("p/c")], "IsTruncated": True, "NextContinuationToken": "t1"},
        {"Bucket": "gold", "Prefix": "p/", "MaxKeys": 2},
    )
    stub.add_response(
        "list_objects_v2",
        {"Contents": [obj("p/a")], "IsTruncated": False},
        {"Bucket": "gold", "Prefix": "p/", "MaxKeys": 2, "ContinuationToken": "t1"},
    )
    stub.add_response("list_objects_v2", {"IsTruncated": False}, {"Bucket": "gold", "Prefix": "", "MaxKeys": 2})
    assert s3.list("gold", "p/") == [
        ObjectInfo("p/a", "p/a-etag", 1),
        ObjectInfo("p/b", "p/b-etag", 1),
        ObjectInfo("p/c", "p/c-etag", 1),
    ]
    assert s3.list("gold") == []


def test_s3_delete_prefix_batches_and_reports_errors(stubbed: Any) -> None:
    client, stub = stubbed
    s3 = S3Store(client)
    stub.add_response(
        "list_objects_v2",
        {"Contents": [{"Key": "r/a", "ETag": '"1"', "Size": 1}], "IsTruncated": False},
        {"Bucket": "gold", "Prefix": "r/", "MaxKeys": 1000},
    )
    stub.add_response(
        "delete_objects",
        {"Errors": [{"Key": "r/a", "Code": "AccessDenied", "Message": "denied"}]},
        {"Bucket": "gold", "Delete": {"Objects": [{"Key": "r/a"}], "Quiet": True}},
    )
    with pytest.raises(Exception, match="AccessDenied"):
        s3.delete_prefix("gold", "r/")


def test_list_folders_returns_the_immediate_sub_prefixes(store: LocalStore) -> None:
    for key in ["pandas/r1/a/part.parquet", "pandas/r1/_manifest.json", "pandas/r2/x", "pandas/latest_run.json"]:
        store.put("gold", key, b"x")
    assert store.list_folders("gold", "pandas/") == ["pandas/r1/", "pandas/r2/"]
    assert store.list_folders("gold") == ["pandas/"]
    assert store.list_folders("gold", "spark/") == []


def test_read_range_and_the_seekable_reader(store: LocalStore) -> None:
    body = bytes(range(256)) * 40
    store.put("gold", "blob", body)
    assert store.read_range("gold", "blob", 10, 5) == body[10:15]
    assert store.read_range("gold", "blob", len(body) - 2, 10) == body[-2:]
    with pytest.raises(NotFound):
        store.read_range("gold", "missing", 0, 1)
    with open_object(store, "gold", "blob", buffer_size=64) as handle:
        handle.seek(-3, io.SEEK_END)
        assert handle.read() == body[-3:]
        handle.seek(100)
        assert handle.read(300) == body[100:400]
        assert handle.tell() == 400


def test_copy_and_delete_one_object(store: LocalStore) -> None:
    store.put("landing", "a/b.csv", b"data")
    etag = store.copy("landing", "a/b.csv", "gold", "backup/a/b.csv")
    assert store.get("gold", "backup/a/b.csv") == store.get("landing", "a/b.csv")
    assert etag == md5(b"data")
    store.delete("landing", "a/b.csv")
    store.delete("landing", "a/b.csv")  # already gone: not an error
    assert store.list("landing") == []
    with pytest.raises(NotFound):
        store.copy("landing", "a/b.csv", "gold", "x")


def test_s3_list_folders_range_copy_and_delete(stubbed: Any) -> None:
    client, stub = stubbed
    s3 = S3Store(client)
    stub.add_response(
        "list_objects_v2",
        {"CommonPrefixes": [{"Prefix": "pandas/r2/"}, {"Prefix": "pandas/r1/"}], "IsTruncated": False},
        {"Bucket": "gold", "Prefix": "pandas/", "Delimiter": "/", "MaxKeys": 1000},
    )
    assert s3.list_folders("gold", "pandas/") == ["pandas/r1/", "pandas/r2/"]
    stub.add_response(
        "get_object",
        {"Body": body_stream(b"cde"), "ETag": '"e"'},
        {"Bucket": "gold", "Key": "k", "Range": "bytes=2-4"},
    )
    assert s3.read_range("gold", "k", 2, 3) == b"cde"
    stub.add_response(
        "copy_object",
        {"CopyObjectResult": {"ETag": '"abc"'}},
        {"Bucket": "gold", "Key": "to", "CopySource": {"Bucket": "landing", "Key": "from"}},
    )
    assert s3.copy("landing", "from", "gold", "to") == "abc"
    stub.add_client_error("copy_object", service_error_code="NoSuchKey", http_status_code=404)
    with pytest.raises(NotFound):
        s3.copy("landing", "gone", "gold", "to")
    stub.add_response("delete_object", {}, {"Bucket": "gold", "Key": "k"})
    s3.delete("gold", "k")
