"""Store events end to end on the real local stack: S3 upload -> versitygw notification -> Kafka -> parse.

Needs `make stack-up` (Kafka in KRaft mode and versitygw started with `--event-kafka-*`). Every test reads the
topics from offsets taken before it acts, so earlier messages and other users of the stack do not disturb it.
Run with `-s` to see the raw versitygw event and the measured upload -> event delay.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from twinlake.broker import dead_letters
from twinlake.datasets import DATASETS, DatasetName
from twinlake.dead_letter import handle_raw_message, source_of
from twinlake.events import StoreEvent, parse_message
from twinlake.s3 import s3_client
from twinlake.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.integration

EVENT_TIMEOUT_S = 30.0
LATENCY_SAMPLES = 10
log = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def settings(uploader_settings: Settings) -> Settings:
    """The uploader's settings (these tests write landing, as the producers do), once the stack answers."""
    return uploader_settings


@pytest.fixture(scope="module")
def s3(settings: Settings) -> S3Client:
    return s3_client(settings)


@pytest.fixture(scope="module")
def producer(settings: Settings) -> Iterator[KafkaProducer]:
    p = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    yield p
    p.close(timeout=5)


def reader(settings: Settings, topic: str) -> KafkaConsumer:
    """A consumer in a fresh group, assigned to every partition of `topic` at its current end."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"twinlake-test-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    partitions = consumer.partitions_for_topic(topic)
    assert partitions, f"topic {topic!r} does not exist on {settings.kafka_bootstrap}"
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    ends = consumer.end_offsets(tps)
    consumer.assign(tps)
    for tp in tps:
        consumer.seek(tp, ends[tp])
    return consumer


def poll_until(
    consumer: KafkaConsumer, done: Callable[[list[Any]], bool], timeout_s: float = EVENT_TIMEOUT_S
) -> list[Any]:
    """Every record read until `done(records)` holds; fails after `timeout_s`."""
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while not done(records):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f}s; read {len(records)} record(s)")
        for batch in consumer.poll(timeout_ms=100).values():
            records.extend(batch)
    return records


def events_of(records: list[Any]) -> list[tuple[Any, StoreEvent]]:
    """(record, event) for every store event among `records` (test events and foreign poison ignored)."""
    found: list[tuple[Any, StoreEvent]] = []
    for record in records:
        try:
            parsed = parse_message(record.value)
        except ValueError:
            continue
        found.extend((record, e) for e in parsed.events)
    return found


def sample_csv(dataset: DatasetName, marker: int) -> bytes:
    """A valid one-row CSV of `dataset` whose ids make its content (hence its ETag) unique."""
    row = {
        DatasetName.CLIENTS: f"{marker},Event Test,event-test-{marker}@example.com,2026-11-26,France",
        DatasetName.PURCHASES: f"{marker},{marker},2026-11-26,10.00,Laptop",
        DatasetName.PROMOTIONS: f"{marker},{marker},WELCOME10,10.00",
    }[dataset]
    return (",".join(DATASETS[dataset].column_names) + "\n" + row + "\n").encode()


@pytest.fixture
def restore_landing(s3: S3Client, settings: Settings) -> Iterator[Callable[[str], None]]:
    """Remember objects the test overwrites and put them back (or remove the test's) afterwards."""
    saved: dict[str, bytes | None] = {}

    def remember(key: str) -> None:
        try:
            saved[key] = s3.get_object(Bucket=settings.landing_bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in {"NoSuchKey", "404"}:
                raise
            saved[key] = None

    yield remember
    for key, body in saved.items():
        if body is None:
            s3.delete_object(Bucket=settings.landing_bucket, Key=key)
        else:
            s3.put_object(Bucket=settings.landing_bucket, Key=key, Body=body)


def test_uploads_raise_one_event_each(s3: S3Client, settings: Settings, restore_landing: Callable[[str], None]) -> None:
    consumer = reader(settings, settings.events_topic)
    marker = int(time.time() * 1000) % 1_000_000_000
    uploads = {
        "clients.csv": sample_csv(DatasetName.CLIENTS, marker),
        "purchases.csv": sample_csv(DatasetName.PURCHASES, marker),
        "promotions/2026-11-26.csv": sample_csv(DatasetName.PROMOTIONS, marker),
    }
    expected: dict[str, tuple[str, int]] = {}
    try:
        for key, body in uploads.items():
            restore_landing(key)
            etag = s3.put_object(Bucket=settings.landing_bucket, Key=key, Body=body)["ETag"]
            expected[key] = (etag.strip('"'), len(body))

        def ours(records: list[Any]) -> list[tuple[Any, StoreEvent]]:
            return [(r, e) for r, e in events_of(records) if e.key in expected and (e.etag, e.size) == expected[e.key]]

        records = poll_until(consumer, lambda rs: {e.key for _, e in ours(rs)} == set(expected))
        time.sleep(1.0)  # a duplicate would arrive right behind the first
        records.extend(r for batch in consumer.poll(timeout_ms=500).values() for r in batch)
    finally:
        consumer.close()

    matched = ours(records)
    assert sorted(e.key for _, e in matched) == sorted(expected), "exactly one event per object"
    for _record, ev in matched:
        assert ev.bucket == settings.landing_bucket
        assert ev.event_name == "ObjectCreated:Put"
        assert (ev.etag, ev.size) == expected[ev.key]
    raw = next(r for r, e in matched if e.key == "clients.csv")
    print(f"\nversitygw event (key {raw.key!r}, partition {raw.partition}): {raw.value.decode()}")


def test_keys_with_special_characters_arrive_as_stored(s3: S3Client, settings: Settings) -> None:
    """versitygw sends keys unescaped; the parser must hand back exactly the key that was written."""
    consumer = reader(settings, settings.events_topic)
    key = f"_twinlake-test/keys-{uuid.uuid4().hex[:8]}/a b+c%41 é.csv"
    try:
        etag = s3.put_object(Bucket=settings.landing_bucket, Key=key, Body=b"x\n")["ETag"].strip('"')
        listed = s3.list_objects_v2(Bucket=settings.landing_bucket, Prefix=key.rsplit("/", 1)[0])
        records = poll_until(consumer, lambda rs: any(e.etag == etag for _, e in events_of(rs)))
    finally:
        consumer.close()
        s3.delete_object(Bucket=settings.landing_bucket, Key=key)
    assert [o["Key"] for o in listed["Contents"]] == [key]
    assert [e.key for _, e in events_of(records) if e.etag == etag] == [key]


def test_poison_message_lands_in_dead_letter_topic(settings: Settings, producer: KafkaProducer) -> None:
    events = reader(settings, settings.events_topic)
    dlq = reader(settings, settings.dead_letter_topic)
    poison = b"\xff\xfe not an event " + uuid.uuid4().hex.encode()
    letters = dead_letters(settings)
    try:
        producer.send(settings.events_topic, value=poison, key=b"twinlake-test").get(timeout=10)
        (record,) = [r for r in poll_until(events, lambda rs: any(r.value == poison for r in rs)) if r.value == poison]
        assert handle_raw_message(record.value, source_of(record), letters, settings, log) == []
        assert handle_raw_message(record.value, source_of(record), letters, settings, log) == []  # a replay

        def ours(records: list[Any]) -> list[Any]:
            return [r for r in records if base64.b64decode(json.loads(r.value)["original"]["base64"] or "") == poison]

        (dead,) = ours(poll_until(dlq, lambda rs: bool(ours(rs))))
        time.sleep(1.0)  # a second record would arrive right behind the first
        assert ours([r for batch in dlq.poll(timeout_ms=500).values() for r in batch]) == []
    finally:
        events.close()
        dlq.close()

    envelope = json.loads(dead.value)
    assert dead.key == f"{settings.events_topic}/{record.partition}/{record.offset}".encode()
    assert "not UTF-8" in envelope["error"]
    assert envelope["source"] == {
        "topic": settings.events_topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": "twinlake-test",
    }
    assert dict(dead.headers)["twinlake-payload-truncated"] == b"false"


def test_a_900_kb_poison_message_reaches_the_dead_letter_topic_cut_to_a_bound(
    settings: Settings, producer: KafkaProducer
) -> None:
    poison = b"{" + uuid.uuid4().hex.encode() * 28_125  # 900 KB, not JSON
    source = {"topic": settings.events_topic, "partition": 0, "offset": 10**12 + int(time.time()), "key": None}
    dlq = reader(settings, settings.dead_letter_topic)
    try:
        assert handle_raw_message(poison, source, dead_letters(settings), settings, log) == []
        key = f"{source['topic']}/{source['partition']}/{source['offset']}".encode()
        (dead,) = [r for r in poll_until(dlq, lambda rs: any(r.key == key for r in rs)) if r.key == key]
    finally:
        dlq.close()
    original = json.loads(dead.value)["original"]
    assert (original["size"], original["truncated"]) == (len(poison), True)
    assert original["sha256"] == hashlib.sha256(poison).hexdigest()
    assert len(dead.value) < 200_000 and dict(dead.headers)["twinlake-payload-truncated"] == b"true"


def test_upload_to_event_delay(s3: S3Client, settings: Settings) -> None:
    """Upload -> event arrival on a key no engine acts on; prints the median (run pytest with -s)."""
    consumer = reader(settings, settings.events_topic)
    prefix = f"_twinlake-test/latency-{uuid.uuid4().hex[:8]}"
    received: list[float] = []
    brokered: list[float] = []
    try:
        for i in range(LATENCY_SAMPLES):
            key, body = f"{prefix}/{i}.txt", f"latency sample {i} {time.time_ns()}\n".encode()
            started = time.time()
            etag = s3.put_object(Bucket=settings.landing_bucket, Key=key, Body=body)["ETag"].strip('"')
            put_done = time.time()
            found: list[tuple[Any, StoreEvent]] = []
            deadline = time.monotonic() + EVENT_TIMEOUT_S
            while not found:
                assert time.monotonic() < deadline, f"no event for {key} within {EVENT_TIMEOUT_S:.0f}s"
                batch = [r for rs in consumer.poll(timeout_ms=20).values() for r in rs]
                now = time.time()
                found = [(r, e) for r, e in events_of(batch) if e.key == key and e.etag == etag]
            record, _ = found[0]
            received.append(now - started)
            brokered.append(record.timestamp / 1000 - started)
            log.info(
                "sample %d: put %.1f ms, event after %.1f ms",
                i,
                1e3 * (put_done - started),
                1e3 * (now - started),
            )
    finally:
        consumer.close()
        for i in range(LATENCY_SAMPLES):
            s3.delete_object(Bucket=settings.landing_bucket, Key=f"{prefix}/{i}.txt")

    median_ms = 1e3 * statistics.median(received)
    print(
        f"\nupload -> event received: median {median_ms:.1f} ms, min {1e3 * min(received):.1f} ms, "
        f"max {1e3 * max(received):.1f} ms over {len(received)} uploads; "
        f"upload start -> Kafka record timestamp: median {1e3 * statistics.median(brokered):.1f} ms"
    )
    assert median_ms < EVENT_TIMEOUT_S * 1000
