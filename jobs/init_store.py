"""Prepare any S3 store for twinlake: create the buckets, and on MinIO subscribe `landing` to the Kafka target.

`python -m jobs.init_store [--minio-kafka-target ID] [--wait-seconds N]`, with the store's root keys (the
`admin` role). Idempotent. It first waits for the store to answer (bounded by `--wait-seconds`, pauses growing
up to 15 s; exit code 3 if it never does), so it can start alongside the store. versitygw publishes every
bucket's events through its `--event-kafka-*` flags, so it needs no subscription; MinIO publishes only for
buckets subscribed to a notification target (`MINIO_NOTIFY_KAFKA_*_<ID>` on the server, ARN
`arn:minio:sqs::<ID>:kafka`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from urllib.parse import urlparse

from minio import Minio
from minio.notificationconfig import NotificationConfig, QueueConfig, SuffixFilterRule

from jobs.startup import EXIT_NOT_READY, NotReady, store_problem, wait_until_ready
from twinlake.s3 import s3_client
from twinlake.settings import Settings, StoreRole

log = logging.getLogger(__name__)
LANDING_EVENTS = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]


def ensure_buckets(settings: Settings) -> list[str]:
    """Create the lake's buckets that do not exist yet; returns the ones created."""
    client = s3_client(settings)
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    created = []
    for bucket in settings.buckets:
        if bucket not in existing:
            client.create_bucket(Bucket=bucket)
            created.append(bucket)
    return created


def minio_notification(target_id: str) -> NotificationConfig:
    """Landing's subscription: every created or removed `.csv` object goes to MinIO's Kafka target."""
    return NotificationConfig(
        queue_config_list=[
            QueueConfig(
                queue=f"arn:minio:sqs::{target_id}:kafka",
                events=LANDING_EVENTS,
                config_id="twinlake-landing",
                suffix_filter_rule=SuffixFilterRule(".csv"),
            )
        ]
    )


def subscribe_minio(settings: Settings, target_id: str) -> None:
    endpoint = urlparse(settings.s3_endpoint)
    client = Minio(
        endpoint.netloc,
        access_key=settings.s3_access_key.get_secret_value(),
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=endpoint.scheme == "https",
        region=settings.s3_region,
    )
    client.set_bucket_notification(settings.landing_bucket, minio_notification(target_id))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.init_store", description=__doc__)
    parser.add_argument(
        "--minio-kafka-target",
        metavar="ID",
        help="MinIO only: the <ID> of the server's MINIO_NOTIFY_KAFKA_*_<ID> target to subscribe landing to",
    )
    parser.add_argument("--wait-seconds", type=float, default=60.0, help="longest wait for the store (60)")
    args = parser.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(levelname)s %(message)s")
    settings = Settings.load(role=StoreRole.ADMIN)
    try:
        wait_until_ready("store", lambda: store_problem(s3_client(settings)), args.wait_seconds)
    except NotReady as exc:
        log.error("%s", exc)
        return EXIT_NOT_READY
    created = ensure_buckets(settings)
    log.info("buckets created: %s", ", ".join(created) or "none (all exist)")
    if args.minio_kafka_target:
        subscribe_minio(settings, args.minio_kafka_target)
        log.info("landing subscribed to arn:minio:sqs::%s:kafka", args.minio_kafka_target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
