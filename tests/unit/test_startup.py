"""jobs.startup: bounded waiting with growing pauses, and the probes' messages (no services: fakes only)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from jobs.startup import LONGEST_PAUSE_S, NotReady, buckets_problem, wait_until_ready


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def test_ready_on_the_fourth_attempt_after_doubling_pauses() -> None:
    answers = iter(["store down", "store down", "no bucket", None])
    fake = FakeClock()
    attempts = wait_until_ready("store", lambda: next(answers), 60, sleep=fake.sleep, clock=fake.clock)
    assert attempts == 4
    assert fake.pauses == [1.0, 2.0, 4.0]


def test_pauses_stop_growing_and_the_wait_is_bounded() -> None:
    fake = FakeClock()
    with pytest.raises(NotReady, match=r"store: still not ready after 100 s \(\d+ attempts\): refused"):
        wait_until_ready("store", lambda: "refused", 100, sleep=fake.sleep, clock=fake.clock)
    assert max(fake.pauses) == LONGEST_PAUSE_S
    assert fake.now == pytest.approx(100)  # the last pause is cut to the deadline, not beyond it


def test_a_zero_timeout_still_tries_once() -> None:
    fake = FakeClock()
    assert wait_until_ready("topic", lambda: None, 0, sleep=fake.sleep, clock=fake.clock) == 1
    assert fake.pauses == []


def test_buckets_problem_names_the_bucket_and_the_store_error() -> None:
    class Client:
        def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
            if kwargs["Bucket"] == "gold":
                raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no grant"}}, "ListObjectsV2")
            return {}

    assert buckets_problem(Client(), ["landing"]) is None  # type: ignore[arg-type]
    problem = buckets_problem(Client(), ["landing", "gold"])  # type: ignore[arg-type]
    assert problem == "cannot list bucket gold: AccessDenied: no grant"
