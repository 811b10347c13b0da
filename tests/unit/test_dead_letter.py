"""The dead-letter path: the envelope of a poison message, its bound, sending once per message, and
handle_raw_message routing a message to runs, skips or the dead-letter topic."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.store_events import record, sample
from tests.worker_fakes import KeySet
from twinlake.datasets import DatasetName
from twinlake.dead_letter import (
    HEADER_ORIGINAL_SHA256,
    HEADER_ORIGINAL_SIZE,
    HEADER_TRUNCATED,
    MAX_PAYLOAD_BYTES,
    MAX_RECORD_BYTES,
    DeadLetters,
    dead_letter_envelope,
    dead_letter_key,
    handle_raw_message,
)
from twinlake.settings import Settings


class FakeFuture:
    def get(self, timeout: float | None = None) -> None:
        return None


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, dict[str, bytes]]] = []
        self.flushes = 0

    def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> FakeFuture:
        self.sent.append((topic, value, key, dict(headers or [])))
        return FakeFuture()

    def flush(self, timeout: float | None = None) -> None:
        assert timeout is not None
        self.flushes += 1


class RecordingLog:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, msg: str, *args: object) -> None:
        self.lines.append(("info", msg % args))

    def warning(self, msg: str, *args: object) -> None:
        self.lines.append(("warning", msg % args))


@pytest.fixture
def settings() -> Settings:
    return Settings(s3_access_key="test", s3_secret_key="test")


SOURCE: dict[str, object] = {"topic": "twinlake.store-events", "partition": 0, "offset": 7, "key": b"landing"}


def dead_letters() -> tuple[DeadLetters, FakeProducer, KeySet]:
    producer, seen = FakeProducer(), KeySet()
    return DeadLetters(producer, "dlq", seen), producer, seen


@pytest.mark.parametrize("value", [b"\xff\xfe\xfa", b"not json", None])
def test_dead_letter_envelope_for_any_input(value: bytes | None) -> None:
    envelope = dead_letter_envelope(value, "boom", {**SOURCE, "key": b"\xff"})
    json.dumps(envelope)  # always serialisable
    assert envelope["error"] == "boom"
    assert envelope["source"] == {**SOURCE, "key": {"base64": "/w=="}}
    original: Any = envelope["original"]
    if value is None:
        assert original == {"size": None, "sha256": None, "truncated": False, "base64": None}
    else:
        assert base64.b64decode(original["base64"]) == value
        assert (original["size"], original["sha256"]) == (len(value), hashlib.sha256(value).hexdigest())
        assert original["truncated"] is False
    assert datetime.fromisoformat(str(envelope["failed_at"])).tzinfo is not None


# The producer's default `max_request_size` (kafka-python, and the broker's default `message.max.bytes`):
# a dead-letter record must fit in it whatever the poison message held.
PRODUCER_LIMIT_BYTES = 1_048_576


@pytest.mark.parametrize("size", [0, 1, 100_000, 900_000, 5_000_000])
def test_a_dead_letter_record_fits_whatever_the_message_size(size: int) -> None:
    value = (b"\xff" + b"x" * size)[:size]
    envelope = dead_letter_envelope(value, "not UTF-8", SOURCE)
    record = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
    assert len(record) < PRODUCER_LIMIT_BYTES - 1024, f"{size} B message -> {len(record)} B dead-letter record"


@given(
    value=st.one_of(st.none(), st.binary(max_size=300_000)),
    error=st.text(max_size=5_000),
    key=st.one_of(st.none(), st.binary(max_size=5_000)),
    topic=st.text(max_size=3_000),
)
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_dead_letter_record_never_exceeds_its_bound(
    value: bytes | None, error: str, key: bytes | None, topic: str
) -> None:
    letters, producer, _ = dead_letters()
    letters.send(value, error, {"topic": topic, "partition": 1, "offset": 2, "key": key})
    ((_, body, record_key, headers),) = producer.sent
    assert body is not None and len(body) <= MAX_RECORD_BYTES
    assert record_key is not None and len(record_key) + sum(len(v) for v in headers.values()) < 20_000
    original = json.loads(body)["original"]
    if value is not None:
        kept = base64.b64decode(original["base64"])
        assert value.startswith(kept) and original["truncated"] == (len(kept) < len(value))
        assert headers[HEADER_TRUNCATED] == (b"true" if original["truncated"] else b"false")


def test_a_large_message_is_cut_and_the_record_says_so() -> None:
    letters, producer, _ = dead_letters()
    value = b"{" + b"x" * 900_000
    letters.send(value, "not JSON", SOURCE)
    ((topic, body, key, headers),) = producer.sent
    assert (topic, key) == ("dlq", b"twinlake.store-events/0/7")
    assert body is not None and len(body) < 200_000
    original = json.loads(body)["original"]
    assert (original["size"], original["truncated"]) == (len(value), True)
    assert original["sha256"] == hashlib.sha256(value).hexdigest()
    assert base64.b64decode(original["base64"]) == value[:MAX_PAYLOAD_BYTES]
    assert headers == {
        HEADER_TRUNCATED: b"true",
        HEADER_ORIGINAL_SIZE: str(len(value)).encode(),
        HEADER_ORIGINAL_SHA256: hashlib.sha256(value).hexdigest().encode(),
    }


def test_dead_lettering_is_keyed_by_source_and_done_once_per_message() -> None:
    letters, producer, seen = dead_letters()
    assert letters.send(b"\xff oops", "not UTF-8", SOURCE) is True
    assert letters.send(b"\xff oops", "not UTF-8", SOURCE) is False  # a replay of the same message
    assert letters.send(b"\xff oops", "not UTF-8", {**SOURCE, "offset": 8}) is True  # another message
    assert [key for _, _, key, _ in producer.sent] == [b"twinlake.store-events/0/7", b"twinlake.store-events/0/8"]
    assert producer.flushes == 2 and seen.refreshes == 3  # the topic is read up to its end before each decision
    body = json.loads(producer.sent[0][1] or b"")
    assert body["error"] == "not UTF-8" and body["format_version"] == 2
    assert body["source"] == {**SOURCE, "key": "landing"}


def test_a_message_already_in_the_topic_is_not_sent_again() -> None:
    letters, producer, seen = dead_letters()
    seen.add(dead_letter_key(SOURCE))  # written before a restart, e.g. by the other engine
    assert letters.send(b"oops", "not JSON", SOURCE) is False
    assert producer.sent == []


def test_handle_raw_message_routes_poison_to_dead_letter(settings: Settings) -> None:
    letters, producer, _ = dead_letters()
    log = RecordingLog()
    assert handle_raw_message(b'{"Records": "x"}', SOURCE, letters, settings, log) == []
    ((topic, value, _, _),) = producer.sent
    assert topic == "dlq"
    assert value is not None
    assert json.loads(value)["error"] == "'Records' must be a list, got a string"
    assert log.lines[0][0] == "warning" and "sent to dlq" in log.lines[0][1]
    assert handle_raw_message(b'{"Records": "x"}', SOURCE, letters, settings, log) == []
    assert len(producer.sent) == 1 and "already in dlq" in log.lines[1][1]


def test_handle_raw_message_returns_relevant_and_logs_skipped(settings: Settings) -> None:
    letters, producer, _ = dead_letters()
    log = RecordingLog()
    keep = record()
    skip = record(key="notes.txt")
    relevant = handle_raw_message(json.dumps({"Records": [keep, skip]}).encode(), SOURCE, letters, settings, log)
    assert [(r.dataset, r.event.key) for r in relevant] == [(DatasetName.CLIENTS, "clients.csv")]
    assert producer.sent == []
    assert log.lines == [
        ("info", "skipped ObjectCreated:Put s3://landing/notes.txt: key 'notes.txt' is not a .csv file")
    ]


def test_handle_raw_message_ignores_test_events(settings: Settings) -> None:
    letters, producer, _ = dead_letters()
    log = RecordingLog()
    assert handle_raw_message(sample("versitygw_test_event.json"), SOURCE, letters, settings, log) == []
    assert producer.sent == []
    assert "test event" in log.lines[0][1]
