"""The local stack as `make stack-up` leaves it: buckets, topics, bucket notifications and conditional writes.

These pin down what the rest of twinlake relies on from versitygw v1.8.0 and Kafka 4.1.1. Test objects go to
`landing/_stack-test/...` with a `.txt` suffix, which maps to no dataset, and are deleted afterwards; they are
written with the uploader's keys, as the producers write.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from twinlake.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.integration

EVENT_TIMEOUT_S = 20.0
TEST_PREFIX = "_stack-test/"


def _client(settings: Settings) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        aws_access_key_id=settings.s3_access_key.get_secret_value(),
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        region_name=settings.s3_region,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def s3(uploader_settings: Settings) -> S3Client:
    return _client(uploader_settings)


@pytest.fixture
def test_key(s3: S3Client, stack_settings: Settings) -> Iterator[str]:
    """A fresh key in the landing bucket, deleted after the test."""
    key = f"{TEST_PREFIX}{uuid.uuid4().hex}.txt"
    yield key
    s3.delete_object(Bucket=stack_settings.landing_bucket, Key=key)


@pytest.fixture
def events(stack_settings: Settings) -> Iterator[KafkaConsumer]:
    """A consumer in a fresh group, positioned at the current end of every partition of the events topic."""
    consumer = KafkaConsumer(
        bootstrap_servers=stack_settings.kafka_bootstrap,
        group_id=f"twinlake-test-stack-{uuid.uuid4().hex}",
        enable_auto_commit=False,
        auto_offset_reset="latest",
    )
    partitions = consumer.partitions_for_topic(stack_settings.events_topic) or set()
    assigned = [TopicPartition(stack_settings.events_topic, p) for p in sorted(partitions)]
    assert assigned, f"no partitions for {stack_settings.events_topic}"
    consumer.assign(assigned)
    consumer.seek_to_end(*assigned)
    for tp in assigned:
        consumer.position(tp)  # resolve "end" now, before the test writes anything
    yield consumer
    consumer.close()


def _wait_for_event(consumer: KafkaConsumer, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first JSON message satisfying `wanted`, within EVENT_TIMEOUT_S (other messages are skipped)."""
    deadline = time.monotonic() + EVENT_TIMEOUT_S
    seen = 0
    while time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            for record in records:
                seen += 1
                try:
                    value = json.loads(record.value)
                except (TypeError, ValueError):
                    continue
                if isinstance(value, dict) and wanted(value):
                    return value
    pytest.fail(f"no matching event within {EVENT_TIMEOUT_S:.0f} s ({seen} other messages seen)")


def _is_event_for(bucket: str, key: str) -> Callable[[dict[str, Any]], bool]:
    def match(value: dict[str, Any]) -> bool:
        records = value.get("Records") or [{}]
        s3_part = records[0].get("s3", {})
        return bool(s3_part.get("bucket", {}).get("name") == bucket and s3_part.get("object", {}).get("key") == key)

    return match


def _error(exc: ClientError) -> tuple[str, int]:
    return exc.response.get("Error", {}).get("Code", ""), exc.response["ResponseMetadata"]["HTTPStatusCode"]


# ------------------------------------------------------------------------------------------- buckets, topics


def test_the_four_buckets_exist(admin_settings: Settings) -> None:
    names = {b.get("Name") for b in _client(admin_settings).list_buckets()["Buckets"]}  # the root sees them all
    assert set(admin_settings.buckets) <= names


def test_topics_exist_with_their_partition_counts(stack_settings: Settings) -> None:
    admin = KafkaAdminClient(bootstrap_servers=stack_settings.kafka_bootstrap, request_timeout_ms=10_000)
    try:
        described = admin.describe_topics([stack_settings.events_topic, stack_settings.dead_letter_topic])
    finally:
        admin.close()
    partitions = {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}
    assert partitions == {stack_settings.events_topic: 3, stack_settings.dead_letter_topic: 1}


# ------------------------------------------------------------------------------------------- notifications


def test_put_into_landing_publishes_an_event(
    s3: S3Client, stack_settings: Settings, events: KafkaConsumer, test_key: str
) -> None:
    etag = s3.put_object(Bucket=stack_settings.landing_bucket, Key=test_key, Body=b"id\n1\n")["ETag"]

    event = _wait_for_event(events, _is_event_for(stack_settings.landing_bucket, test_key))

    record = event["Records"][0]
    assert record["s3"]["bucket"]["name"] == "landing"
    assert record["s3"]["object"]["key"] == test_key
    assert record["eventName"] == "s3:ObjectCreated:Put"
    assert record["s3"]["object"]["size"] == 5
    assert record["s3"]["object"]["eTag"] == etag  # quoted, like the S3 API's ETag header


def test_event_keys_are_the_raw_object_keys_not_url_escaped(
    s3: S3Client, stack_settings: Settings, events: KafkaConsumer
) -> None:
    """Unlike AWS (which URL-encodes `s3.object.key`), versitygw v1.8.0 sends the decoded request path."""
    key = f"{TEST_PREFIX}{uuid.uuid4().hex}/a b+c=d&e%41 é.txt"
    try:
        s3.put_object(Bucket=stack_settings.landing_bucket, Key=key, Body=b"x")
        event = _wait_for_event(events, _is_event_for(stack_settings.landing_bucket, key))
    finally:
        s3.delete_object(Bucket=stack_settings.landing_bucket, Key=key)
    assert event["Records"][0]["s3"]["object"]["key"] == key


# ------------------------------------------------------------------------------------ conditional writes


def test_if_none_match_star_refuses_an_existing_key(s3: S3Client, stack_settings: Settings, test_key: str) -> None:
    bucket = stack_settings.landing_bucket
    s3.put_object(Bucket=bucket, Key=test_key, Body=b"first", IfNoneMatch="*")  # absent: created

    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key=test_key, Body=b"second", IfNoneMatch="*")

    assert _error(refused.value) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key=test_key)["Body"].read() == b"first"


def test_if_match_replaces_only_the_expected_etag(s3: S3Client, stack_settings: Settings, test_key: str) -> None:
    bucket = stack_settings.landing_bucket
    first = s3.put_object(Bucket=bucket, Key=test_key, Body=b"v1")["ETag"]

    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key=test_key, Body=b"v2", IfMatch='"00000000000000000000000000000000"')
    assert _error(refused.value) == ("PreconditionFailed", 412)

    second = s3.put_object(Bucket=bucket, Key=test_key, Body=b"v2", IfMatch=first)["ETag"]
    assert second != first
    assert s3.get_object(Bucket=bucket, Key=test_key)["Body"].read() == b"v2"

    with pytest.raises(ClientError) as stale:  # the old ETag no longer matches
        s3.put_object(Bucket=bucket, Key=test_key, Body=b"v3", IfMatch=first)
    assert _error(stale.value) == ("PreconditionFailed", 412)


def test_if_match_on_a_missing_key_is_no_such_key(s3: S3Client, stack_settings: Settings, test_key: str) -> None:
    """Not 412: versitygw answers 404 NoSuchKey when the object to replace does not exist."""
    with pytest.raises(ClientError) as missing:
        s3.put_object(Bucket=stack_settings.landing_bucket, Key=test_key, Body=b"v", IfMatch='"abc"')
    assert _error(missing.value) == ("NoSuchKey", 404)
