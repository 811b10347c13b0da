"""The Kafka side of store events: one raw message in, relevant events out, poison to the dead-letter topic.

Engines own their consumers; they hand each message value to `handle_raw_message`, which parses and classifies
it (`twinlake.events`), writes anything unparseable to the dead-letter topic through `DeadLetters` and logs every
skipped event with its reason.

A dead-letter record always fits in a Kafka message, whatever the poison held (a 900 KB message included):

- key: `<topic>/<partition>/<offset>` of the source message, its identity;
- value: JSON `{"format_version": 2, "error": ..., "source": {"topic", "partition", "offset", "key"},
  "original": {"size", "sha256", "truncated", "base64"}, "failed_at": ...}` where `base64` holds at most the
  first `MAX_PAYLOAD_BYTES` bytes of the message (all of it when `truncated` is false), and the error and the
  source key are cut to a bound too;
- headers: `twinlake-payload-truncated` (`true`/`false`), `twinlake-original-size`, `twinlake-original-sha256`.

Dead-lettering is idempotent: `DeadLetters` first reads the dead-letter topic up to its end (`DeadLetterIndex`)
and skips a source message whose key is already there, so a replay (a Spark restart on its checkpoint, a Pandas
worker re-reading uncommitted offsets) adds nothing. Both engines read every event; if they dead-letter the same
message at the same instant, two records with the same key can remain: consumers of the topic drop duplicates by
key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from twinlake.events import PoisonMessage, Relevant, Skipped, classify, parse_message
from twinlake.settings import Settings

FORMAT_VERSION = 2
DEFAULT_TIMEOUT_S = 10.0
MAX_PAYLOAD_BYTES = 64 * 1024  # of the original message kept in the record (base64: 4/3 of it)
MAX_ERROR_CHARS = 2_000
MAX_SOURCE_KEY_BYTES = 1_024
# Upper bound of an encoded record value (payload in base64, error and key at 4 bytes per character, JSON
# escapes and the fixed fields): far below the producer's and the broker's 1 MiB default limits.
MAX_RECORD_BYTES = 4 * MAX_PAYLOAD_BYTES // 3 + 6 * (MAX_ERROR_CHARS + 2 * MAX_SOURCE_KEY_BYTES) + 4_096
HEADER_TRUNCATED = "twinlake-payload-truncated"
HEADER_ORIGINAL_SIZE = "twinlake-original-size"
HEADER_ORIGINAL_SHA256 = "twinlake-original-sha256"

_logger = logging.getLogger(__name__)


class Producer(Protocol):
    """The part of `kafka.KafkaProducer` used here (a fake in tests)."""

    def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any: ...

    def flush(self, timeout: float | None = None) -> None: ...


class SeenKeys(Protocol):
    """What is already in the dead-letter topic: `refresh` reads it up to its current end."""

    def refresh(self) -> None: ...

    def add(self, key: bytes) -> None: ...

    def __contains__(self, key: object) -> bool: ...


class Log(Protocol):
    """The part of `logging.Logger` used here."""

    def info(self, msg: str, *args: object) -> None: ...

    def warning(self, msg: str, *args: object) -> None: ...


def source_of(record: Any) -> dict[str, object]:
    """The `source` of a `kafka.consumer.fetcher.ConsumerRecord` (or anything with the same attributes)."""
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key,
    }


def dead_letter_key(source: Mapping[str, object]) -> bytes:
    """`<topic>/<partition>/<offset>`: the identity of the source message, the dead-letter record's key."""
    return f"{source.get('topic')}/{source.get('partition')}/{source.get('offset')}".encode()


def _json_safe(value: object) -> object:
    """A source field as JSON: bytes become text when they are UTF-8, else `{"base64": ...}`; cut to a bound."""
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)[:MAX_SOURCE_KEY_BYTES]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(raw).decode("ascii")}
    if value is None or isinstance(value, int | float | bool):
        return value
    return str(value)[:MAX_SOURCE_KEY_BYTES]


def dead_letter_envelope(
    message_value: bytes | bytearray | None,
    error: str,
    source: Mapping[str, object],
    failed_at: datetime | None = None,
) -> dict[str, object]:
    """The JSON document written to the dead-letter topic (built for any input, and always small)."""
    raw = None if message_value is None else bytes(message_value)
    original: dict[str, object] = {"size": None, "sha256": None, "truncated": False, "base64": None}
    if raw is not None:
        kept = raw[:MAX_PAYLOAD_BYTES]
        original = {
            "size": len(raw),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "truncated": len(kept) < len(raw),
            "base64": base64.b64encode(kept).decode("ascii"),
        }
    return {
        "format_version": FORMAT_VERSION,
        "error": error[:MAX_ERROR_CHARS],
        "source": {str(k): _json_safe(v) for k, v in source.items()},
        "original": original,
        "failed_at": (failed_at or datetime.now(UTC)).astimezone(UTC).isoformat(),
    }


def dead_letter_headers(envelope: Mapping[str, Any]) -> list[tuple[str, bytes]]:
    original = envelope["original"]
    return [
        (HEADER_TRUNCATED, b"true" if original["truncated"] else b"false"),
        (HEADER_ORIGINAL_SIZE, str(original["size"]).encode()),
        (HEADER_ORIGINAL_SHA256, str(original["sha256"]).encode()),
    ]


class DeadLetters:
    """Writes poison messages to the dead-letter topic, at most once per source message (see the module doc)."""

    def __init__(self, producer: Producer, topic: str, seen: SeenKeys, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.producer = producer
        self.topic = topic
        self.seen = seen
        self.timeout_s = timeout_s

    def send(self, message_value: bytes | bytearray | None, error: str, source: Mapping[str, object]) -> bool:
        """Write one record and wait until the broker has it; False if the topic already had this message.

        Never fails because of what the message holds. Raises a `kafka.errors.KafkaError` if the broker cannot be
        read or does not acknowledge within the timeout: the caller must then not commit the source offset.
        """
        key = dead_letter_key(source)
        self.seen.refresh()
        if key in self.seen:
            return False
        envelope = dead_letter_envelope(message_value, error, source)
        future = self.producer.send(
            self.topic,
            value=json.dumps(envelope, ensure_ascii=False).encode("utf-8"),
            key=key,
            headers=dead_letter_headers(envelope),
        )
        self.producer.flush(timeout=self.timeout_s)
        future.get(timeout=self.timeout_s)
        self.seen.add(key)
        return True


def handle_raw_message(
    value: bytes | bytearray | None,
    source: Mapping[str, object],
    dead_letters: DeadLetters,
    settings: Settings,
    log: Log | None = None,
) -> list[Relevant]:
    """Parse and classify one message from the events topic; return the events an engine must act on.

    Poison goes to the dead-letter topic (and yields `[]`); test events and skipped events are logged. Raises
    only if the dead-letter topic cannot be read or written (the broker is unreachable).
    """
    log = log or _logger
    try:
        parsed = parse_message(value)
    except PoisonMessage as poison:
        where = f"{source.get('topic')}[{source.get('partition')}]@{source.get('offset')}"
        sent = dead_letters.send(value, poison.reason, source)
        log.warning(
            "poison message at %s %s %s: %s",
            where,
            "sent to" if sent else "already in",
            dead_letters.topic,
            poison.reason[:300],
        )
        return []
    if parsed.is_test_event:
        log.info("store test event at offset %s: nothing to process", source.get("offset"))
        return []

    relevant: list[Relevant] = []
    for event in parsed.events:
        outcome = classify(event, settings.landing_bucket)
        if isinstance(outcome, Skipped):
            log.info("skipped %s s3://%s/%s: %s", event.event_name, event.bucket, event.key[:300], outcome.reason[:500])
        else:
            relevant.append(outcome)
    return relevant
