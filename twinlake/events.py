"""Store events: parse the bucket notifications that reach Kafka, and decide which ones an engine must act on.

Pure: no Kafka, no S3, no pandas. `twinlake.dead_letter` wires this to the broker.

Wire formats accepted by `parse_message` (one Kafka message value each):

* AWS S3: `{"Records": [record, ...]}`, keys form-encoded (a space arrives as `+`), `eTag` unquoted, `size`
  and `eTag` absent on removals.
* versitygw (checked against v1.7.0 `s3event/event.go` and events recorded from the local stack): one record
  per message, recognised by its hard-coded `s3.configurationId` (`kafka-global`, `webhook-global`, ...; the
  Kafka sender writes `webhook-global`). Unlike AWS its keys are NOT escaped: `a b+c%d.csv` arrives as is,
  so they are taken verbatim. `eventTime` is RFC 3339 with second precision and the gateway's offset, `eTag`
  is quoted (`null` on removals), `versionId` is `null` or `""`, and `size` is only real on
  `ObjectCreated:Put`/`Post` (0 on `CompleteMultipartUpload`, `Copy` and removals, reported here as None).
* MinIO's Kafka target: `{"EventName": ..., "Key": "<bucket>/<key>", "Records": [record]}` where the record's
  `s3.object.key` is `url.QueryEscape`d (so `/` arrives as `%2F` and a space as `+`), `eTag` unquoted, and
  `size`/`eTag` absent on removals.
* Test events, which carry nothing to process: AWS's `{"Service": "Amazon S3", "Event": "s3:TestEvent", ...}`
  and versitygw's start-up `{"Bucket": "Test-Bucket", "Event": "s3:TestEvent", "Service": "S3", "Time": ...}`.

Anything else raises `PoisonMessage` with a reason meant for the dead-letter topic and the log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, field_validator

from twinlake.datasets import DatasetName
from twinlake.layout import dataset_for_key

TEST_EVENT = "s3:TestEvent"
CREATED = "ObjectCreated"
REMOVED = "ObjectRemoved"
# versitygw (v1.7, v1.8) writes one of these fixed configuration ids in every record; AWS and MinIO write the
# id of the bucket's notification rule.
_VERSITYGW_CONFIGURATION_IDS = frozenset({"kafka-global", "nats-global", "webhook-global", "rabbitmq-global"})
# The only versitygw events whose `size` is the object's size.
_VERSITYGW_SIZED_EVENTS = frozenset({"ObjectCreated:Put", "ObjectCreated:Post"})


class PoisonMessage(ValueError):
    """A message that is not a store event and never will be: route it to the dead-letter topic."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StoreEvent(BaseModel):
    """One object-level event from the store, normalised across AWS, versitygw and MinIO.

    `key` is decoded (no URL escaping), `etag` has no quotes, `event_time` is in UTC and `event_name` has no
    `s3:` prefix (`ObjectCreated:Put`, `ObjectRemoved:Delete`, ...). `size` is None when the store did not
    say; trust a listing, not this field, for the size of a multipart upload.
    """

    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str
    size: int | None
    etag: str | None
    version_id: str | None
    event_time: datetime
    event_name: str

    @field_validator("event_time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # A time without an offset is taken as UTC (every known sender writes one anyway).
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @property
    def category(self) -> str:
        """`ObjectCreated`, `ObjectRemoved`, `ObjectTagging`, ..."""
        return self.event_name.partition(":")[0]

    @property
    def is_created(self) -> bool:
        return self.category == CREATED

    @property
    def is_removed(self) -> bool:
        return self.category == REMOVED


class ParsedMessage(BaseModel):
    """What one Kafka message holds: its events, or nothing at all if it is a test event."""

    model_config = ConfigDict(frozen=True)

    events: tuple[StoreEvent, ...] = ()
    is_test_event: bool = False


class Relevant(BaseModel):
    """An event that changes the input set of `dataset`: a new or replaced CSV, or a removed one."""

    model_config = ConfigDict(frozen=True)

    event: StoreEvent
    dataset: DatasetName
    removed: bool = False


class Skipped(BaseModel):
    """An event that no engine acts on, with the reason to log."""

    model_config = ConfigDict(frozen=True)

    event: StoreEvent
    reason: str


Classification = Relevant | Skipped


def parse_message(value: bytes | bytearray | None) -> ParsedMessage:
    """Parse one Kafka message value into store events. Raises `PoisonMessage` if it is not a valid one."""
    if value is None:
        raise PoisonMessage("empty message (null value)")
    try:
        text = bytes(value).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PoisonMessage(f"not UTF-8 text: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PoisonMessage(f"not JSON: {exc}") from None
    except RecursionError:
        raise PoisonMessage("not JSON: nested too deeply") from None
    if not isinstance(document, dict):
        raise PoisonMessage(f"expected a JSON object, got {_json_type(document)}")

    if "Records" not in document:
        if document.get("Event") == TEST_EVENT:
            return ParsedMessage(is_test_event=True)
        raise PoisonMessage("no 'Records' field (and not an s3:TestEvent)")
    records = document["Records"]
    if not isinstance(records, list):
        raise PoisonMessage(f"'Records' must be a list, got {_json_type(records)}")
    if not records:
        raise PoisonMessage("'Records' is empty")
    return ParsedMessage(events=tuple(_parse_record(rec, f"Records[{i}]") for i, rec in enumerate(records)))


def classify(event: StoreEvent, landing_bucket: str) -> Classification:
    """Decide whether an event changes a dataset's input set in the landing bucket (and if not, why not)."""
    if event.bucket != landing_bucket:
        return Skipped(event=event, reason=f"bucket {event.bucket!r} is not the landing bucket {landing_bucket!r}")
    if not (event.is_created or event.is_removed):
        return Skipped(event=event, reason=f"event {event.event_name!r} neither creates nor removes an object")
    if not event.key.lower().endswith(".csv"):
        return Skipped(event=event, reason=f"key {event.key!r} is not a .csv file")
    dataset = dataset_for_key(event.key)
    if dataset is None:
        known = ", ".join(d.value for d in DatasetName)
        return Skipped(
            event=event,
            reason=f"key {event.key!r} maps to no dataset (expected <dataset>.csv or <dataset>/*.csv, "
            f"dataset one of: {known})",
        )
    return Relevant(event=event, dataset=dataset, removed=event.is_removed)


def _parse_record(record: object, where: str) -> StoreEvent:
    rec = _as_object(record, where)
    event_name = _required_str(rec, "eventName", where).removeprefix("s3:")
    event_time = _parse_time(rec.get("eventTime"), f"{where}.eventTime")
    s3 = _as_object(rec.get("s3"), f"{where}.s3")
    bucket = _required_str(_as_object(s3.get("bucket"), f"{where}.s3.bucket"), "name", f"{where}.s3.bucket")
    obj = _as_object(s3.get("object"), f"{where}.s3.object")
    configuration_id = s3.get("configurationId")  # any JSON value: only a known string marks versitygw's envelope
    versitygw = isinstance(configuration_id, str) and configuration_id in _VERSITYGW_CONFIGURATION_IDS
    raw_key = _required_str(obj, "key", f"{where}.s3.object")
    key = raw_key if versitygw else unquote_plus(raw_key)
    if not key:
        raise PoisonMessage(f"{where}.s3.object.key decodes to an empty key ({raw_key!r})")

    size = _parse_size(obj.get("size"), f"{where}.s3.object.size")
    if versitygw and event_name not in _VERSITYGW_SIZED_EVENTS:
        size = None  # versitygw sends 0 there: unknown, not empty
    etag_field = "eTag" if "eTag" in obj else "etag"
    etag = _optional_str(obj.get(etag_field), f"{where}.s3.object.{etag_field}")
    if etag is not None:
        etag = etag.strip('"') or None
    version_id = _optional_str(obj.get("versionId"), f"{where}.s3.object.versionId")
    return StoreEvent(
        bucket=bucket,
        key=key,
        size=size,
        etag=etag,
        version_id=version_id or None,
        event_time=event_time,
        event_name=event_name,
    )


def _json_type(value: object) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "a list"
        case dict():
            return "an object"
        case _:
            return type(value).__name__


def _as_object(value: object, where: str) -> Mapping[str, object]:
    if value is None:
        raise PoisonMessage(f"{where} is missing")
    if not isinstance(value, dict):
        raise PoisonMessage(f"{where} must be an object, got {_json_type(value)}")
    return value


def _required_str(obj: Mapping[str, object], field: str, where: str) -> str:
    value = obj.get(field)
    if value is None:
        raise PoisonMessage(f"{where}.{field} is missing")
    if not isinstance(value, str):
        raise PoisonMessage(f"{where}.{field} must be a string, got {_json_type(value)}")
    if not value:
        raise PoisonMessage(f"{where}.{field} is empty")
    return value


def _optional_str(value: object, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise PoisonMessage(f"{where} must be a string or null, got {_json_type(value)}")


def _parse_size(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise PoisonMessage(f"{where} must not be negative, got {value}")
        return value
    raise PoisonMessage(f"{where} must be a non-negative integer, got {_json_type(value)} {value!r:.40}")


def _parse_time(value: object, where: str) -> datetime:
    if value is None:
        raise PoisonMessage(f"{where} is missing")
    if not isinstance(value, str):
        raise PoisonMessage(f"{where} must be a string, got {_json_type(value)}")
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except ValueError:
        raise PoisonMessage(f"{where} is not an ISO 8601 / RFC 3339 time: {value!r:.40}") from None
    except OverflowError:  # e.g. 9999-12-31T23:59:59-23:59: a valid time that is past year 9999 in UTC
        raise PoisonMessage(f"{where} is out of range in UTC: {value!r:.40}") from None
