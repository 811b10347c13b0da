"""Waiting at start-up for what an entrypoint needs (the store, its buckets, the events topic).

On Kubernetes every part starts at once: the store before its accounts exist, the engines before the buckets
and topics do. Instead of exiting and leaving the wait to the kubelet's restart back-off (which grows to five
minutes), an entrypoint polls with bounded, exponentially growing pauses and logs what it still waits for; after
`timeout` seconds it gives up with `NotReady`, which its `main` turns into exit code 3 (`EXIT_NOT_READY`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from twinlake.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)
EXIT_NOT_READY = 3
FIRST_PAUSE_S = 1.0
LONGEST_PAUSE_S = 15.0


class NotReady(RuntimeError):
    """What an entrypoint waited for was still not there when its time ran out; the message says what."""


Probe = Callable[[], str | None]  # None when ready, else what is missing


def wait_until_ready(
    what: str,
    probe: Probe,
    timeout: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Call `probe` until it reports nothing missing; pauses double from 1 s up to 15 s. Returns the attempts.

    Raises `NotReady` with the last problem once `timeout` seconds have passed (at least one attempt is made).
    """
    deadline = clock() + timeout
    pause, attempt = FIRST_PAUSE_S, 0
    while True:
        attempt += 1
        problem = probe()
        if problem is None:
            if attempt > 1:
                log.info("%s: ready after %d attempts", what, attempt)
            return attempt
        left = deadline - clock()
        if left <= 0:
            raise NotReady(f"{what}: still not ready after {timeout:.0f} s ({attempt} attempts): {problem}")
        log.info("%s: waiting (%s); next attempt in %.0f s", what, problem, min(pause, left))
        sleep(min(pause, left))
        pause = min(pause * 2, LONGEST_PAUSE_S)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '') or exc}"
    return f"{type(exc).__name__}: {exc}"


def buckets_problem(client: S3Client, buckets: Iterable[str], prefix: str = "") -> str | None:
    """None if each bucket can be listed with the client's keys, else the first failure (missing bucket,
    unknown keys, no grant yet, store unreachable)."""
    for bucket in buckets:
        try:
            client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
        except (BotoCoreError, ClientError) as exc:
            return f"cannot list bucket {bucket}: {_describe(exc)}"
    return None


def store_problem(client: S3Client) -> str | None:
    """None if the store answers ListBuckets with the client's keys, else why not."""
    try:
        client.list_buckets()
    except (BotoCoreError, ClientError) as exc:
        return f"store does not answer: {_describe(exc)}"
    return None


def topic_problem(settings: Settings) -> str | None:
    """None if the events topic exists on the broker, else why not."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=5000, api_version_auto_timeout_ms=5000
        )
    except (KafkaError, OSError) as exc:
        return f"broker {settings.kafka_bootstrap} does not answer: {_describe(exc)}"
    try:
        topics = admin.list_topics()
    except (KafkaError, OSError) as exc:
        return f"broker {settings.kafka_bootstrap} does not answer: {_describe(exc)}"
    finally:
        admin.close()
    if settings.events_topic not in topics:
        return f"topic {settings.events_topic} does not exist yet on {settings.kafka_bootstrap}"
    return None


def wait_for_engine_inputs(settings: Settings, client: S3Client, timeout: float) -> None:
    """An engine's start-up: the events topic exists and its keys list `landing`.

    Landing alone is enough: every bucket is created before any grant is given, and landing's grants are given
    last (`jobs.store_users`), so keys that list landing have all their grants. A bucket missing later is a real
    failure of the run, reported as such.
    """
    wait_until_ready("events topic", lambda: topic_problem(settings), timeout)
    wait_until_ready("landing bucket", lambda: buckets_problem(client, [settings.landing_bucket]), timeout)
