"""Whether the local stack answers, for the tests that need it (integration, fault suite): they fail, never skip,
with a message that says how to start it."""

from __future__ import annotations

import threading

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from twinlake.settings import MissingSetting, Settings, StoreRole

PROBE_TIMEOUT_S = 10.0
HOW_TO_START = "run `make stack-up` (and `make stack-status` to see what is wrong)"


def _s3_problem(settings: Settings) -> str | None:
    client = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        aws_access_key_id=settings.s3_access_key.get_secret_value(),
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        region_name=settings.s3_region,
        config=Config(s3={"addressing_style": "path"}, connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}),
    )
    try:
        client.list_buckets()
    except (BotoCoreError, ClientError) as exc:
        return f"S3 store at {settings.s3_endpoint} does not answer ListBuckets: {exc}"
    return None


def _kafka_problem(settings: Settings) -> str | None:
    """List topics in a daemon thread so that a wedged broker cannot hang the test session."""
    outcome: list[str | None] = []

    def probe() -> None:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=settings.kafka_bootstrap,
                request_timeout_ms=5000,
                api_version_auto_timeout_ms=3000,
            )
            try:
                admin.list_topics()
            finally:
                admin.close()
        except (KafkaError, OSError) as exc:
            outcome.append(f"Kafka at {settings.kafka_bootstrap} does not answer metadata: {exc!r}")
        else:
            outcome.append(None)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(PROBE_TIMEOUT_S)
    if not outcome:
        return f"Kafka at {settings.kafka_bootstrap} did not answer within {PROBE_TIMEOUT_S:.0f} s"
    return outcome[0]


def load_role(role: StoreRole) -> Settings:
    """`Settings.load(role=role)`; fails (never skips) when the stack's env file has no keys for it."""
    try:
        return Settings.load(role=role)
    except MissingSetting as exc:
        pytest.fail(f"the local stack is not configured ({exc}); {HOW_TO_START}", pytrace=False)


def stack_settings() -> Settings:
    """The engines' settings, after checking that both the broker and the store answer; fails (never skips)."""
    settings = load_role(StoreRole.ENGINES)
    problems = [p for p in (_kafka_problem(settings), _s3_problem(settings)) if p]
    if problems:
        pytest.fail(f"the local stack is not up: {'; '.join(problems)}; {HOW_TO_START}", pytrace=False)
    return settings
