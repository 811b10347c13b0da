"""The store's event messages as tests write them: the hand-recorded samples of every sender (tests/unit/samples/)
and one S3 event record of an object created in the landing bucket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.landing import LANDING

SAMPLES = Path(__file__).parent / "unit" / "samples"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def record(**object_fields: Any) -> dict[str, Any]:
    """An `s3:ObjectCreated:Put` record of landing/clients.csv; `object_fields` add to or replace the object's."""
    return {
        "eventName": "s3:ObjectCreated:Put",
        "eventTime": "2026-11-26T15:30:00Z",
        "s3": {"bucket": {"name": LANDING}, "object": {"key": "clients.csv", **object_fields}},
    }
