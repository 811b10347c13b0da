"""Fakes of what an engine's worker talks to (Kafka's consumer and producer, the dead-letter topic's index, the
clock) and of the store event the landing bucket sends, shared by the worker and run-scheduling tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.store_events import record
from twinlake.dead_letter import DeadLetters
from twinlake.settings import Settings


@dataclass
class Record:
    value: bytes
    offset: int
    topic: str = "twinlake.store-events"
    partition: int = 0
    key: bytes | None = None


@dataclass
class FakeConsumer:
    queue: list[list[Record]] = field(default_factory=list)
    commits: int = 0
    polled: int = 0

    def poll(self, timeout_ms: int = 0) -> dict[str, list[Record]]:
        if not self.queue:
            return {}
        batch = self.queue.pop(0)
        self.polled += len(batch)
        return {"tp0": batch} if batch else {}

    def commit(self) -> None:
        self.commits += 1

    def assignment(self) -> set[str]:
        return set()


@dataclass
class FakeProducer:
    sent: list[tuple[str, bytes]] = field(default_factory=list)

    def send(self, topic: str, value: bytes | None = None, key: bytes | None = None, **kwargs: Any) -> Any:
        assert value is not None
        self.sent.append((topic, value))

        class Done:
            def get(self, timeout: float | None = None) -> None:
                return None

        return Done()

    def flush(self, timeout: float | None = None) -> None:
        return None


class KeySet(set[bytes]):
    """Stands for the dead-letter topic's index: what `refresh` would read is already in the set."""

    refreshes = 0

    def refresh(self) -> None:
        self.refreshes += 1


def letters(settings: Settings, producer: FakeProducer) -> DeadLetters:
    return DeadLetters(producer, settings.dead_letter_topic, KeySet())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def event(key: str, offset: int) -> Record:
    """The message of one object created in the landing bucket, at `offset`."""
    return Record(json.dumps({"Records": [record(key=key, size=10, eTag="abc")]}).encode(), offset)
