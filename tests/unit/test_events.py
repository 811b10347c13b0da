"""Store events: parsing and classifying hand-recorded samples of every sender.

The samples in `samples/` are written from each sender's source or documentation: versitygw v1.7.0
(`s3event/event.go`, `generateTestEvent`), MinIO's Kafka target (`event.Log`, keys `url.QueryEscape`d) and
the AWS S3 event message structure.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.landing import LANDING
from tests.store_events import record, sample
from twinlake.datasets import DatasetName
from twinlake.events import (
    ParsedMessage,
    PoisonMessage,
    Relevant,
    Skipped,
    StoreEvent,
    classify,
    parse_message,
)


def event(**changes: Any) -> StoreEvent:
    base: dict[str, Any] = {
        "bucket": LANDING,
        "key": "clients.csv",
        "size": 10,
        "etag": "abc",
        "version_id": None,
        "event_time": datetime(2026, 11, 26, 15, 30, tzinfo=UTC),
        "event_name": "ObjectCreated:Put",
    }
    return StoreEvent(**{**base, **changes})


# --- parse_message: valid samples -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "versitygw_put.json",
            event(
                key="clients.csv",
                size=113,
                etag="efac5082fec9de936070d30fa4ddf4ed",
                event_time=datetime(2026, 11, 26, 15, 58, 37, tzinfo=UTC),
            ),
        ),
        (
            "versitygw_put_raw_key.json",
            event(
                key="_twinlake-test/capture-6e259c/a b+c%d.csv",  # versitygw does not escape keys
                size=8,
                etag="344fd2323dd33d5c058b7cf27de029e8",
                event_time=datetime(2026, 11, 26, 15, 58, 53, tzinfo=UTC),
            ),
        ),
        (
            "versitygw_multipart.json",
            event(
                key="_twinlake-test/capture-6e259c/multi.csv",
                size=None,  # versitygw says 0
                etag="ac1f8aff40d191e27d29b7848a8d9abd-1",
                version_id=None,  # sent as ""
                event_time=datetime(2026, 11, 26, 15, 58, 53, tzinfo=UTC),
                event_name="ObjectCreated:CompleteMultipartUpload",
            ),
        ),
        (
            "versitygw_copy.json",
            event(
                key="_twinlake-test/capture-6e259c/copy.csv",
                size=None,  # versitygw says 0
                etag="e09c80c42fda55f9d992e59ca6b3307d",
                event_time=datetime(2026, 11, 26, 15, 58, 53, tzinfo=UTC),
                event_name="ObjectCreated:Copy",
            ),
        ),
        (
            "versitygw_remove.json",
            event(
                key="_twinlake-test/capture-6e259c/a b+c%d.csv",
                size=None,
                etag=None,
                event_time=datetime(2026, 11, 26, 15, 58, 53, tzinfo=UTC),
                event_name="ObjectRemoved:Delete",
            ),
        ),
        (
            "versitygw_delete_objects.json",
            event(
                key="_twinlake-test/capture-6e259c/copy.csv",
                size=None,
                etag=None,
                event_time=datetime(2026, 11, 26, 15, 58, 53, tzinfo=UTC),
                event_name="ObjectRemoved:DeleteObjects",
            ),
        ),
        (
            "aws_multipart.json",
            event(
                key="purchases/2026-11-26 batch+1.csv",  # form-encoded: '+' is a space, '%2B' a plus
                size=52428800,
                etag="6d7a1d4f2e3c0a9b8c7d6e5f4a3b2c1d-10",
                event_time=datetime(2026, 11, 26, 15, 31, 7, 250000, tzinfo=UTC),
                event_name="ObjectCreated:CompleteMultipartUpload",
            ),
        ),
        (
            "minio_put.json",
            event(
                key="clients/2026-11-26 copy.csv",
                size=52311,
                etag="9b2cf535f27731c974343645a3985328",
                event_time=datetime(2026, 11, 26, 15, 30, 0, 123000, tzinfo=UTC),
            ),
        ),
        (
            "aws_put.json",
            event(
                key="promotions/2026-11-26.csv",
                size=1024,
                etag="d41d8cd98f00b204e9800998ecf8427e",
                version_id="096fKKXTRTtl3on89fVO.nfljtsv6qko",
                event_time=datetime(2026, 11, 26, 15, 30, tzinfo=UTC),
            ),
        ),
        (
            "aws_remove.json",
            event(
                key="purchases/2026-11-25.csv",
                size=None,
                etag=None,
                event_time=datetime(2026, 11, 26, 15, 35, 12, 345000, tzinfo=UTC),
                event_name="ObjectRemoved:Delete",
            ),
        ),
    ],
)
def test_parses_each_sender(name: str, expected: StoreEvent) -> None:
    parsed = parse_message(sample(name))
    assert parsed == ParsedMessage(events=(expected,), is_test_event=False)
    assert parsed.events[0].event_time.tzinfo is UTC


@pytest.mark.parametrize("name", ["versitygw_test_event.json", "aws_test_event.json"])
def test_test_events_carry_nothing(name: str) -> None:
    assert parse_message(sample(name)) == ParsedMessage(events=(), is_test_event=True)


def test_several_records_give_several_events() -> None:
    one = json.loads(sample("aws_put.json"))["Records"][0]
    other = json.loads(json.dumps(one))
    other["s3"]["object"]["key"] = "clients.csv"
    parsed = parse_message(json.dumps({"Records": [one, other]}).encode())
    assert [e.key for e in parsed.events] == ["promotions/2026-11-26.csv", "clients.csv"]


@pytest.mark.parametrize(
    ("fields", "attribute", "expected"),
    [
        ({"size": "42"}, "size", 42),
        ({"etag": '"lowercase-field"'}, "etag", "lowercase-field"),
        ({"eTag": ""}, "etag", None),
        ({"key": "clients%2F2026-11-26%2Bplus.csv"}, "key", "clients/2026-11-26+plus.csv"),
        ({"key": "clients/a+b.csv"}, "key", "clients/a b.csv"),
        ({"versionId": "v1"}, "version_id", "v1"),
    ],
)
def test_field_normalisation(fields: dict[str, Any], attribute: str, expected: object) -> None:
    (parsed,) = parse_message(json.dumps({"Records": [record(**fields)]}).encode()).events
    assert getattr(parsed, attribute) == expected


@pytest.mark.parametrize(
    ("configuration_id", "event_name", "key", "size"),
    [
        ("webhook-global", "s3:ObjectCreated:Put", "clients/a+b%20c.csv", 0),  # an empty upload is real
        ("kafka-global", "s3:ObjectCreated:Post", "clients/a+b%20c.csv", 5),
        ("webhook-global", "s3:ObjectCreated:Copy", "clients/a+b%20c.csv", None),
        ("my-rule", "s3:ObjectCreated:Copy", "clients/a b c.csv", 0),  # not versitygw: decoded, size kept
    ],
)
def test_versitygw_keys_are_verbatim_and_sizes_trusted_only_on_put(
    configuration_id: str, event_name: str, key: str, size: int | None
) -> None:
    rec = record(key="clients/a+b%20c.csv", size=0 if size is None else size)
    rec["eventName"] = event_name
    rec["s3"]["configurationId"] = configuration_id
    (parsed,) = parse_message(json.dumps({"Records": [rec]}).encode()).events
    assert (parsed.key, parsed.size) == (key, size)


def test_event_time_without_offset_is_utc_and_offsets_are_converted() -> None:
    rec = record()
    rec["eventTime"] = "2026-11-26T15:30:00"
    assert parse_message(json.dumps({"Records": [rec]}).encode()).events[0].event_time == datetime(
        2026, 11, 26, 15, 30, tzinfo=UTC
    )
    rec["eventTime"] = "2026-11-26T10:30:00-05:00"
    assert parse_message(json.dumps({"Records": [rec]}).encode()).events[0].event_time == datetime(
        2026, 11, 26, 15, 30, tzinfo=UTC
    )


# --- parse_message: poison ----------------------------------------------------------------------------------


_DELETE = object()


def with_record(**changes: Any) -> bytes:
    rec = record()
    for path, value in changes.items():
        target = rec
        *parents, leaf = path.split("__")
        for part in parents:
            target = target[part]
        if value is _DELETE:
            del target[leaf]
        else:
            target[leaf] = value
    return json.dumps({"Records": [rec]}).encode()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param(b"this is not json", "not JSON", id="not-json"),
        pytest.param(b"", "not JSON", id="empty-bytes"),
        pytest.param(None, "null value", id="null-value"),
        pytest.param(b"\xff\xfe{\x00}", "not UTF-8", id="invalid-utf8"),
        pytest.param(b"[1, 2]", "expected a JSON object, got a list", id="json-list"),
        pytest.param(b'"Records"', "expected a JSON object, got a string", id="json-string"),
        pytest.param(b"{}", "no 'Records' field", id="empty-object"),
        pytest.param(b'{"Event": "s3:SomethingElse"}', "no 'Records' field", id="other-event"),
        pytest.param(b'{"Records": "x"}', "'Records' must be a list, got a string", id="records-string"),
        pytest.param(b'{"Records": []}', "'Records' is empty", id="records-empty"),
        pytest.param(b'{"Records": [42]}', "Records[0] must be an object", id="record-number"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "not JSON", id="deeply-nested"),
        pytest.param(with_record(s3__object__key=_DELETE), "Records[0].s3.object.key is missing", id="no-key"),
        pytest.param(with_record(s3__object__key=""), "Records[0].s3.object.key is empty", id="empty-key"),
        pytest.param(with_record(s3__object__key=7), "key must be a string, got a number", id="int-key"),
        pytest.param(with_record(s3__object=_DELETE), "Records[0].s3.object is missing", id="no-object"),
        pytest.param(with_record(s3=[]), "Records[0].s3 must be an object, got a list", id="s3-list"),
        pytest.param(with_record(s3__bucket__name=_DELETE), "s3.bucket.name is missing", id="no-bucket"),
        pytest.param(with_record(s3__object__size="abc"), "size must be a non-negative integer", id="size-abc"),
        pytest.param(with_record(s3__object__size=-1), "size must not be negative", id="size-negative"),
        pytest.param(with_record(s3__object__size=True), "size must be a non-negative integer", id="size-bool"),
        pytest.param(with_record(s3__object__size=1.5), "size must be a non-negative integer", id="size-float"),
        pytest.param(with_record(s3__object__eTag=5), "eTag must be a string or null", id="etag-number"),
        pytest.param(with_record(eventName=_DELETE), "Records[0].eventName is missing", id="no-event-name"),
        pytest.param(with_record(eventTime=_DELETE), "Records[0].eventTime is missing", id="no-event-time"),
        pytest.param(with_record(eventTime="yesterday"), "eventTime is not an ISO 8601", id="bad-time"),
        pytest.param(with_record(eventTime=1764171000), "eventTime must be a string", id="epoch-time"),
        pytest.param(with_record(eventTime="9999-12-31T23:59:59-23:59"), "out of range in UTC", id="time-past-9999"),
    ],
)
def test_poison_messages_are_rejected_with_a_reason(value: bytes | None, reason: str) -> None:
    with pytest.raises(PoisonMessage) as raised:
        parse_message(value)
    assert reason in raised.value.reason
    assert str(raised.value) == raised.value.reason


# --- classify --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "dataset"),
    [
        ("clients.csv", DatasetName.CLIENTS),
        ("purchases.csv", DatasetName.PURCHASES),
        ("promotions/2026-11-26.csv", DatasetName.PROMOTIONS),
        ("clients/2026-11-26 copy.csv", DatasetName.CLIENTS),
    ],
)
def test_created_csv_of_a_dataset_is_relevant(key: str, dataset: DatasetName) -> None:
    ev = event(key=key)
    assert classify(ev, LANDING) == Relevant(event=ev, dataset=dataset, removed=False)


@pytest.mark.parametrize("name", ["ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated"])
def test_removal_is_relevant_and_flagged(name: str) -> None:
    outcome = classify(event(event_name=name, etag=None, size=None), LANDING)
    assert isinstance(outcome, Relevant)
    assert outcome.removed is True
    assert outcome.dataset is DatasetName.CLIENTS


@pytest.mark.parametrize(
    ("ev", "reason"),
    [
        (event(bucket="bronze"), "not the landing bucket"),
        (event(event_name="ObjectTagging:Put"), "neither creates nor removes"),
        (event(event_name="ObjectAcl:Put"), "neither creates nor removes"),
        (event(event_name="ObjectRestore:Completed"), "neither creates nor removes"),
        (event(key="clients.parquet"), "is not a .csv file"),
        (event(key="clients/"), "is not a .csv file"),
        (event(key="readme.txt"), "is not a .csv file"),
        (event(key="orders.csv"), "maps to no dataset"),
        (event(key="archive/clients.csv"), "maps to no dataset"),
    ],
)
def test_skip_reasons(ev: StoreEvent, reason: str) -> None:
    outcome = classify(ev, LANDING)
    assert isinstance(outcome, Skipped)
    assert reason in outcome.reason
    assert outcome.event == ev


def test_samples_classify_as_expected() -> None:
    outcomes = {
        name: [classify(e, LANDING) for e in parse_message(sample(name)).events]
        for name in (
            "versitygw_put.json",
            "versitygw_put_raw_key.json",
            "aws_multipart.json",
            "aws_remove.json",
            "minio_put.json",
            "aws_put.json",
        )
    }
    datasets = {
        name: [(o.dataset, o.removed) for o in found if isinstance(o, Relevant)] for name, found in outcomes.items()
    }
    assert datasets == {
        "versitygw_put.json": [(DatasetName.CLIENTS, False)],
        "versitygw_put_raw_key.json": [],  # _twinlake-test/... maps to no dataset
        "aws_multipart.json": [(DatasetName.PURCHASES, False)],
        "aws_remove.json": [(DatasetName.PURCHASES, True)],
        "minio_put.json": [(DatasetName.CLIENTS, False)],
        "aws_put.json": [(DatasetName.PROMOTIONS, False)],
    }


def test_store_event_is_frozen_and_utc() -> None:
    ev = event(event_time=datetime(2026, 11, 26, 15, 30))
    assert ev.event_time.tzinfo is UTC
    with pytest.raises(ValueError):
        ev.key = "other.csv"  # type: ignore[misc]
