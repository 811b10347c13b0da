"""Kafka clients for the store-event topics, configured in one place from `Settings` (kafka-python)."""

from __future__ import annotations

from kafka import KafkaConsumer, KafkaProducer

from twinlake.settings import Settings


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
