"""Whether the store and the broker can be used, checked before a command starts work, and what to do if not.

Every entrypoint that needs the store or Kafka (upload, the engines, the `twinlake` read commands) calls `require`
first: a store that refuses connections, rejects the keys or lacks a bucket, and a broker that is down or lacks a
topic, each becomes one `Problem` (what, where, why) with the next step, instead of a client library's traceback
after its retries. The checks are cheap: one listing of at most one key per bucket, one TCP connection and one
metadata request. boto3 and kafka-python are imported only when a check runs.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from twinlake.settings import Settings, env_file_path

T = TypeVar("T")
TIMEOUT_SECONDS = 5.0
START_STACK = "start the local stack with `make stack-up` (`make stack-status` shows what runs)"
# Store error codes that mean "these keys are not valid here" (AccessDenied means valid keys without this right).
_BAD_KEYS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "XAdminUserNotFound"}
)
_NO_BUCKET = frozenset({"NoSuchBucket"})


@dataclass(frozen=True)
class Problem:
    """One thing that cannot be used: what and where (`what`), the next step (`action`) and the settings involved."""

    what: str
    action: str
    settings: tuple[str, ...] = ()


class Unavailable(RuntimeError):
    """The store or the broker cannot be used; `problems` says what, where and what to do."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__("; ".join(p.what for p in problems))
        self.problems = problems

    def next_step(self) -> str:
        """One line: the actions (each once), then the settings to check."""
        actions = list(dict.fromkeys(p.action for p in self.problems))
        names = list(dict.fromkeys(name for p in self.problems for name in p.settings))
        text = "; ".join(actions)
        return f"{text}, or check {', '.join(names)}" if names else text


def require(settings: Settings, *, buckets: Iterable[str] = (), topics: Iterable[str] = ()) -> None:
    """Raise `Unavailable` naming every problem found with the store (these buckets) and the broker (these topics)."""
    buckets, topics = list(buckets), list(topics)
    problems = [
        problem
        for problem in (
            store_problem(settings, buckets) if buckets else None,
            broker_problem(settings, topics) if topics else None,
        )
        if problem is not None
    ]
    if problems:
        raise Unavailable(*problems)


# -- the store ---------------------------------------------------------------------------------------------


def store_problem(settings: Settings, buckets: Iterable[str]) -> Problem | None:
    """None if the store answers a one-key listing of every bucket with valid keys, else the first problem."""
    from botocore.exceptions import BotoCoreError, ClientError

    from twinlake.s3 import s3_client

    endpoint = settings.s3_endpoint
    client = s3_client(settings, attempts=1, connect_timeout=TIMEOUT_SECONDS, read_timeout=TIMEOUT_SECONDS)
    for bucket in buckets:
        try:
            client.list_objects_v2(Bucket=bucket, MaxKeys=1)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _BAD_KEYS:
                return Problem(
                    f"the S3 store at {endpoint} rejects the access key ({code})",
                    f"use the keys `make stack-up` wrote to {env_file_path()}",
                    ("TWINLAKE_S3_ACCESS_KEY", "TWINLAKE_S3_SECRET_KEY"),
                )
            if code in _NO_BUCKET:
                return Problem(
                    f"the S3 store at {endpoint} has no bucket {bucket!r}",
                    "`make stack-up` creates the buckets (`python -m jobs.init_store` on another store)",
                    (f"TWINLAKE_{_bucket_setting(settings, bucket)}",),
                )
            if code != "AccessDenied":  # valid keys without the right to list: the store is there
                return Problem(
                    f"the S3 store at {endpoint} answers {code or 'an error'} to a listing of bucket {bucket!r}",
                    "check that the endpoint is an S3 store",
                    ("TWINLAKE_S3_ENDPOINT",),
                )
        except (BotoCoreError, OSError) as exc:
            return Problem(
                f"cannot reach the S3 store at {endpoint} ({connection_reason(exc)})",
                START_STACK,
                ("TWINLAKE_S3_ENDPOINT",),
            )
    return None


def _bucket_setting(settings: Settings, bucket: str) -> str:
    for name in ("landing_bucket", "bronze_bucket", "silver_bucket", "gold_bucket"):
        if getattr(settings, name) == bucket:
            return name.upper()
    return "GOLD_BUCKET"


def connection_reason(exc: BaseException) -> str:
    """A few words on why a connection failed: `connection refused`, `no answer within 5 s`, or the error."""
    text = str(exc)
    chain: list[BaseException] = [exc]
    while chain[-1].__context__ is not None and len(chain) < 10:
        chain.append(chain[-1].__context__)
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "Connection refused" in text:
        return "connection refused"
    if any(isinstance(e, TimeoutError | socket.timeout) for e in chain) or "timed out" in text.lower():
        return f"no answer within {TIMEOUT_SECONDS:.0f} s"
    if any(isinstance(e, socket.gaierror) for e in chain) or "Name or service not known" in text:
        return "unknown host name"
    if "closed before we received a valid response" in text:
        return "the connection was closed without an answer"
    return text or type(exc).__name__


# -- the broker --------------------------------------------------------------------------------------------


def broker_problem(settings: Settings, topics: Iterable[str]) -> Problem | None:
    """None if a bootstrap server accepts a connection, answers a metadata request and has every topic."""
    bootstrap = settings.kafka_bootstrap

    def unreachable(reason: str) -> Problem:
        return Problem(f"cannot reach Kafka at {bootstrap} ({reason})", START_STACK, ("TWINLAKE_KAFKA_BOOTSTRAP",))

    reasons = []
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=TIMEOUT_SECONDS):
                break
        except (OSError, ValueError) as exc:
            reasons.append(connection_reason(exc))
    else:
        return unreachable(", ".join(dict.fromkeys(reasons)))
    try:
        existing = call_with_timeout(lambda: _list_topics(bootstrap), 2 * TIMEOUT_SECONDS)
    except Exception as exc:  # kafka-python raises many types; all mean "not a working broker"
        return unreachable(f"no metadata: {connection_reason(exc)}")
    missing = [topic for topic in topics if topic not in existing]
    if missing:
        return Problem(
            f"Kafka at {bootstrap} has no topic {', '.join(missing)}",
            "`make stack-up` creates the topics",
            ("TWINLAKE_EVENTS_TOPIC", "TWINLAKE_DEAD_LETTER_TOPIC"),
        )
    return None


def _list_topics(bootstrap: str) -> set[str]:
    from kafka import KafkaAdminClient

    with quiet_kafka_logs():
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="twinlake-check",
            request_timeout_ms=int(TIMEOUT_SECONDS * 1000),
            api_version_auto_timeout_ms=int(TIMEOUT_SECONDS * 1000),
        )
        try:
            return set(admin.list_topics())
        finally:
            admin.close()


@contextlib.contextmanager
def quiet_kafka_logs() -> Iterator[None]:
    """kafka-python logs every refused connection at ERROR; a check reports the outcome itself."""
    logger = logging.getLogger("kafka")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def call_with_timeout(fn: Callable[[], T], timeout: float) -> T:
    """`fn()` in a daemon thread; TimeoutError if it has not returned after `timeout` seconds (a wedged broker)."""
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {timeout:.0f} s")
    if error:
        raise error[0]
    return result[0]
