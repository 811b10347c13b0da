"""The Kafka side of store events: one raw message in, relevant events out, poison to the dead-letter topic.

Engines own their consumers; they hand each message value to `handle_raw_message`, which parses and
classifies it (`twinlake.events`), writes anything unparseable to `settings.dead_letter_topic` and logs every
skipped event with its reason. Dead-letter envelopes are JSON:

    {"error": "...", "source": {"topic": ..., "partition": ..., "offset": ..., "key": ...},
     "original_base64": "...", "original_text": "..." | null, "failed_at": "2026-11-26T15:30:00.123456+00:00"}
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from twinlake.events import PoisonMessage, Relevant, Skipped, classify, parse_message
from twinlake.settings import Settings

DEFAULT_TIMEOUT_S = 10.0

_logger = logging.getLogger(__name__)


class Producer(Protocol):
    """The part of `kafka.KafkaProducer` used here (a fake in tests)."""

    def send(self, topic: str, value: bytes | None = None, key: bytes | None = None) -> Any: ...

    def flush(self, timeout: float | None = None) -> None: ...


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


def _text_or_none(value: bytes) -> str | None:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _json_safe(value: object) -> object:
    """Source fields as JSON: bytes become text when they are UTF-8, else `{"base64": ...}`."""
    if isinstance(value, bytes | bytearray):
        text = _text_or_none(bytes(value))
        return text if text is not None else {"base64": base64.b64encode(value).decode("ascii")}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def dead_letter_envelope(
    message_value: bytes | bytearray | None,
    error: str,
    source: Mapping[str, object],
    failed_at: datetime | None = None,
) -> dict[str, object]:
    """The JSON document written to the dead-letter topic (built for any input, decodable or not)."""
    raw = None if message_value is None else bytes(message_value)
    return {
        "error": error,
        "source": {str(k): _json_safe(v) for k, v in source.items()},
        "original_base64": None if raw is None else base64.b64encode(raw).decode("ascii"),
        "original_text": None if raw is None else _text_or_none(raw),
        "failed_at": (failed_at or datetime.now(UTC)).astimezone(UTC).isoformat(),
    }


def send_to_dead_letter(
    producer: Producer,
    topic: str,
    message_value: bytes | bytearray | None,
    error: str,
    source: Mapping[str, object],
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> None:
    """Write one dead-letter envelope and wait until the broker has it.

    Never fails because of what the message holds. Does raise (a `kafka.errors.KafkaError`) if the broker does
    not acknowledge within `timeout_s`: the caller must then not commit the source offset, so nothing is lost.
    """
    envelope = dead_letter_envelope(message_value, error, source)
    key = source.get("key")
    future = producer.send(
        topic,
        value=json.dumps(envelope, ensure_ascii=False).encode("utf-8"),
        key=bytes(key) if isinstance(key, bytes | bytearray) else None,
    )
    producer.flush(timeout=timeout_s)
    future.get(timeout=timeout_s)


def handle_raw_message(
    value: bytes | bytearray | None,
    source: Mapping[str, object],
    producer: Producer,
    settings: Settings,
    log: Log | None = None,
) -> list[Relevant]:
    """Parse and classify one message from the events topic; return the events an engine must act on.

    Poison goes to the dead-letter topic (and yields `[]`); test events and skipped events are logged. Raises
    only if the dead-letter write itself fails.
    """
    log = log or _logger
    try:
        parsed = parse_message(value)
    except PoisonMessage as poison:
        log.warning(
            "poison message at %s[%s]@%s, sent to %s: %s",
            source.get("topic"),
            source.get("partition"),
            source.get("offset"),
            settings.dead_letter_topic,
            poison.reason,
        )
        send_to_dead_letter(producer, settings.dead_letter_topic, value, poison.reason, source)
        return []
    if parsed.is_test_event:
        log.info("store test event at offset %s: nothing to process", source.get("offset"))
        return []

    relevant: list[Relevant] = []
    for event in parsed.events:
        outcome = classify(event, settings.landing_bucket)
        if isinstance(outcome, Skipped):
            log.info("skipped %s s3://%s/%s: %s", event.event_name, event.bucket, event.key, outcome.reason)
        else:
            relevant.append(outcome)
    return relevant
