"""The MinIO subscription twinlake configures for landing (the XML MinIO receives, built by the minio client)."""

from __future__ import annotations

from xml.etree import ElementTree

from minio.xml import marshal

from jobs.init_store import minio_notification


def test_landing_subscription_targets_the_kafka_arn_for_csv_objects() -> None:
    xml = marshal(minio_notification("PRIMARY")).decode()
    root = ElementTree.fromstring(xml)
    ns = {"s3": root.tag.split("}")[0].strip("{")} if root.tag.startswith("{") else {}
    prefix = "s3:" if ns else ""
    queue = root.find(f"{prefix}QueueConfiguration", ns)
    assert queue is not None
    assert queue.findtext(f"{prefix}Queue", namespaces=ns) == "arn:minio:sqs::PRIMARY:kafka"
    assert sorted(e.text or "" for e in queue.findall(f"{prefix}Event", ns)) == [
        "s3:ObjectCreated:*",
        "s3:ObjectRemoved:*",
    ]
    assert ".csv" in xml and "suffix" in xml
