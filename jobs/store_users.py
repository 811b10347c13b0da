"""Least-privilege users on MinIO, through its admin API: `python -m jobs.store_users --users-dir DIR`.

Runs with the store's root credentials (`TWINLAKE_S3_ACCESS_KEY` / `TWINLAKE_S3_SECRET_KEY`) after
`jobs.init_store` created the buckets. `DIR` holds one folder per role, named after the role, each with the
files `accessKey` and `secretKey` (on Kubernetes: one Secret per role mounted there). Roles:

- `engines`: read `landing`; read, write and delete in `bronze`, `silver`, `gold` (runs, checkpoints, pointers).
- `dashboard`: read-only on `bronze`, `silver`, `gold`.
- `uploader`: write (and read back) `landing`; nothing else.

For each role found, a canned policy `twinlake-<role>` is created or replaced, the user is created (or its secret
updated) and the policy set on it, so the job is idempotent. A folder for an unknown role is an error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from minio import MinioAdmin
from minio.credentials.providers import StaticProvider

from twinlake.settings import Settings

log = logging.getLogger(__name__)
READ_OBJECTS = ["s3:GetObject"]
WRITE_OBJECTS = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
LIST_BUCKET = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]
ROLES = ("engines", "dashboard", "uploader")


def _statements(buckets: list[str], object_actions: list[str]) -> list[dict[str, Any]]:
    return [
        {"Effect": "Allow", "Action": LIST_BUCKET, "Resource": [f"arn:aws:s3:::{b}" for b in buckets]},
        {"Effect": "Allow", "Action": object_actions, "Resource": [f"arn:aws:s3:::{b}/*" for b in buckets]},
    ]


def role_policy(role: str, settings: Settings) -> dict[str, Any]:
    """The IAM policy document of a role, for the bucket names in `settings`."""
    lake = [settings.bronze_bucket, settings.silver_bucket, settings.gold_bucket]
    landing = [settings.landing_bucket]
    if role == "engines":
        statements = _statements(landing, READ_OBJECTS) + _statements(lake, READ_OBJECTS + WRITE_OBJECTS)
    elif role == "dashboard":
        statements = _statements(lake, READ_OBJECTS)
    elif role == "uploader":
        statements = _statements(landing, READ_OBJECTS + WRITE_OBJECTS)
    else:
        raise ValueError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    return {"Version": "2012-10-17", "Statement": statements}


def read_users(users_dir: Path) -> dict[str, tuple[str, str]]:
    """`{role: (access key, secret key)}` from `users_dir/<role>/{accessKey,secretKey}`."""
    users: dict[str, tuple[str, str]] = {}
    for folder in sorted(p for p in users_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name not in ROLES:
            raise ValueError(f"{folder}: unknown role {folder.name!r}: expected one of {', '.join(ROLES)}")
        access = (folder / "accessKey").read_text(encoding="utf-8").strip()
        secret = (folder / "secretKey").read_text(encoding="utf-8").strip()
        if not access or not secret:
            raise ValueError(f"{folder}: empty accessKey or secretKey")
        users[folder.name] = (access, secret)
    return users


def admin_client(settings: Settings) -> MinioAdmin:
    endpoint = urlparse(settings.s3_endpoint)
    return MinioAdmin(
        endpoint=endpoint.netloc,
        credentials=StaticProvider(
            settings.s3_access_key.get_secret_value(), settings.s3_secret_key.get_secret_value()
        ),
        region=settings.s3_region,
        secure=endpoint.scheme == "https",
    )


def ensure_users(admin: Any, settings: Settings, users: dict[str, tuple[str, str]]) -> list[str]:
    """Create or update each role's policy and user; returns the roles handled."""
    for role, (access, secret) in users.items():
        policy = f"twinlake-{role}"
        admin.policy_add(policy, policy=role_policy(role, settings))
        admin.user_add(access, secret)
        admin.policy_set(policy, user=access)
        log.info("user %s has policy %s", access, policy)
    return list(users)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.store_users", description=__doc__)
    parser.add_argument(
        "--users-dir",
        type=Path,
        required=True,
        help=f"folder of <role>/{{accessKey,secretKey}} (roles: {', '.join(ROLES)})",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(levelname)s %(message)s")
    settings = Settings.load()
    users = read_users(args.users_dir)
    if not users:
        log.error("no role folder in %s", args.users_dir)
        return 1
    handled = ensure_users(admin_client(settings), settings, users)
    log.info("least-privilege users ready: %s", ", ".join(handled))
    return 0


if __name__ == "__main__":
    sys.exit(main())
