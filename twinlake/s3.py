"""The one place that creates boto3 S3 clients (producers, engines, scripts and tests all call `s3_client`).

boto3 is imported when a client is made, not when this module is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twinlake.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def s3_client(
    settings: Settings, *, attempts: int = 3, connect_timeout: float = 5, read_timeout: float = 60
) -> S3Client:
    """A client for the lake's S3 endpoint: path-style addressing, SigV4, the settings' credentials, region.

    Checksums are computed and validated only when an operation requires them: S3-compatible stores do not all
    accept the CRC trailers that recent boto3 versions send by default. A reachability probe asks for one attempt
    and short timeouts.
    """
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        aws_access_key_id=settings.s3_access_key.get_secret_value(),
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        region_name=settings.s3_region,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": attempts, "mode": "standard"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
