"""Fuzzing the event parser: any bytes on the events topic give a parsed message or a typed rejection.

`parse_message` must raise nothing but `PoisonMessage` (which goes to the dead-letter topic), whatever arrives:
random bytes, random JSON, and mutations of the recorded samples of every sender. Events it parses must classify
without raising, and `handle_raw_message` must turn any message into relevant events, a skip or a dead letter.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from twinlake.dead_letter import MAX_RECORD_BYTES, DeadLetters, handle_raw_message
from twinlake.events import ParsedMessage, PoisonMessage, classify, parse_message
from twinlake.settings import Settings

SAMPLES = sorted((Path(__file__).parent / "samples").glob("*.json"))
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=25,
)
# Fields a store event has, with values of any JSON type: the parser must check every type it reads.
record_fields = st.fixed_dictionaries(
    {},
    optional={
        "eventName": json_values | st.sampled_from(["s3:ObjectCreated:Put", "ObjectRemoved:Delete", "s3:TestEvent"]),
        "eventTime": json_values
        | st.sampled_from(["2026-11-26T15:30:00Z", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00", "x"]),
        "s3": st.fixed_dictionaries(
            {},
            optional={
                "configurationId": json_values | st.just("kafka-global"),
                "bucket": json_values | st.fixed_dictionaries({"name": json_values | st.text()}),
                "object": json_values
                | st.fixed_dictionaries(
                    {},
                    optional={
                        "key": json_values | st.text(),
                        "size": json_values | st.integers(),
                        "eTag": json_values | st.text(),
                        "versionId": json_values,
                    },
                ),
            },
        ),
    },
)
documents = st.one_of(
    json_values,
    st.builds(lambda records: {"Records": records}, st.lists(record_fields, max_size=3) | json_values),
    st.builds(
        lambda event, extra: {"Event": event, **extra},
        json_values | st.just("s3:TestEvent"),
        st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    ),
)


def check(value: bytes | None) -> None:
    try:
        parsed = parse_message(value)
    except PoisonMessage as poison:
        assert poison.reason
        return
    assert isinstance(parsed, ParsedMessage)
    for event in parsed.events:
        classify(event, "landing")


@FUZZ
@given(st.binary(max_size=2_000))
def test_any_bytes_parse_or_are_poison(value: bytes) -> None:
    check(value)


@FUZZ
@given(documents)
@example(  # found by this test: an unhashable configurationId raised TypeError instead of a typed rejection
    {
        "Records": [
            {
                "eventName": "s3:ObjectCreated:Put",
                "s3": {"object": {}, "configurationId": [], "bucket": {"name": "0"}},
                "eventTime": "2026-11-26T15:30:00Z",
            }
        ]
    }
)
def test_any_json_document_parses_or_is_poison(document: Any) -> None:
    check(json.dumps(document).encode())


@FUZZ
@given(
    st.sampled_from(SAMPLES),
    st.lists(st.tuples(st.integers(min_value=0), st.binary(max_size=3), st.integers(0, 3)), max_size=4),
)
def test_mutated_samples_parse_or_are_poison(sample: Path, edits: list[tuple[int, bytes, int]]) -> None:
    value = bytearray(sample.read_bytes())
    for position, insert, delete in edits:  # splice bytes in and out of a real sender's message
        at = position % (len(value) + 1)
        value[at : at + delete] = insert
    check(bytes(value))


class Sink:
    """Stands for the producer and the dead-letter index."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def send(self, topic: str, value: bytes | None = None, key: bytes | None = None, **kwargs: Any) -> Any:
        self.sizes.append(len(value or b""))
        return self

    def get(self, timeout: float | None = None) -> None:
        return None

    def flush(self, timeout: float | None = None) -> None:
        return None

    def refresh(self) -> None:
        return None

    def add(self, key: bytes) -> None:
        return None

    def __contains__(self, key: object) -> bool:
        return False


@FUZZ
@given(st.one_of(st.binary(max_size=2_000), documents.map(lambda d: json.dumps(d).encode())))
def test_any_message_is_an_event_a_skip_or_a_dead_letter_that_fits(value: bytes) -> None:
    sink = Sink()
    source = {"topic": "twinlake.store-events", "partition": 0, "offset": 1, "key": value[:50]}
    handle_raw_message(value, source, DeadLetters(sink, "dlq", sink), Settings(s3_access_key="k", s3_secret_key="s"))
    assert all(size <= MAX_RECORD_BYTES for size in sink.sizes)
