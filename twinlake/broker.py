"""Kafka clients for the store-event topics, configured in one place from `Settings` (kafka-python)."""

from __future__ import annotations

import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaTimeoutError

from twinlake.dead_letter import DeadLetters
from twinlake.settings import Settings

READ_TIMEOUT_S = 30.0


def event_consumer(settings: Settings, group_id: str, **overrides: object) -> KafkaConsumer:
    """A consumer of the events topic that commits offsets only when told to (after a run is recorded).

    `max_poll_interval_ms` covers the longest run: the consumer does not poll while a run executes, and the
    background heartbeat keeps its group membership meanwhile.
    """
    config: dict[str, object] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_poll_interval_ms": settings.max_run_seconds * 1000,
        "session_timeout_ms": 30_000,
        "heartbeat_interval_ms": 3_000,
        "max_poll_records": 500,
    }
    config.update(overrides)
    consumer = KafkaConsumer(**config)
    consumer.subscribe([settings.events_topic])
    return consumer


def event_producer(settings: Settings) -> KafkaProducer:
    """A producer for the dead-letter topic (and for tests that inject events)."""
    return KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5)


class DeadLetterIndex:
    """The keys already in the dead-letter topic, read from its start and caught up on each `refresh`.

    No consumer group: it reads every partition itself, and commits nothing. The topic holds few, small records
    (a bounded envelope per poison message), so keeping their keys in memory is cheap.
    """

    def __init__(self, settings: Settings, timeout_s: float = READ_TIMEOUT_S) -> None:
        self.topic = settings.dead_letter_topic
        self.timeout_s = timeout_s
        self._consumer = KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False, group_id=None
        )
        self._partitions: list[TopicPartition] = []
        self._keys: set[bytes] = set()

    def _assign(self, deadline: float) -> None:
        if self._partitions:
            return
        # Right after the broker came back the metadata can still miss the topic: ask again until the deadline.
        while not (found := self._consumer.partitions_for_topic(self.topic)):
            if time.monotonic() > deadline:
                raise KafkaTimeoutError(f"dead-letter topic {self.topic} not found on the broker")
            time.sleep(0.5)
        self._partitions = [TopicPartition(self.topic, p) for p in sorted(found)]
        self._consumer.assign(self._partitions)
        self._consumer.seek_to_beginning(*self._partitions)

    def refresh(self) -> None:
        """Read the topic up to its current end; raises `KafkaTimeoutError` if the broker does not answer."""
        deadline = time.monotonic() + self.timeout_s
        self._assign(deadline)
        ends = self._consumer.end_offsets(self._partitions)
        while any(self._consumer.position(tp) < ends[tp] for tp in self._partitions):
            if time.monotonic() > deadline:
                raise KafkaTimeoutError(f"could not read dead-letter topic {self.topic} within {self.timeout_s} s")
            for records in self._consumer.poll(timeout_ms=500).values():
                self._keys.update(r.key for r in records if r.key is not None)

    def add(self, key: bytes) -> None:
        self._keys.add(key)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def close(self) -> None:
        self._consumer.close()


def dead_letters(settings: Settings) -> DeadLetters:
    """Idempotent dead-lettering to `settings.dead_letter_topic` (see `twinlake.dead_letter`)."""
    return DeadLetters(event_producer(settings), settings.dead_letter_topic, DeadLetterIndex(settings))
