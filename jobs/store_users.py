"""Least-privilege store accounts, one per role: `python -m jobs.store_users --store KIND --users-dir DIR`.

Runs with the store's root keys (the `admin` role: `TWINLAKE_S3_ADMIN_ACCESS_KEY` / `_SECRET_KEY`, or the
generic pair a container gets from the root Secret) once `jobs.init_store` created the buckets; it waits for
them first (bounded by `--wait-seconds`, exit code 3 when they do not appear). `DIR` holds a folder per role
(`uploader`, `engines`, `dashboard`, `benchmark`) with the files `accessKey` and `secretKey` (on Kubernetes: each
role's Secret mounted there). What each role may do is declared in `twinlake.access`; each store gets it in its
own form:

- `minio`: a canned policy `twinlake-<role>` (the role's user policy), the user, the policy set on the user;
- `versitygw`: an account per role (role `user`, through the gateway's admin API), then one bucket policy per
  lake bucket naming the roles' access keys (the gateway's internal IAM has no user policies). The local stack's
  `make stack-up` calls the same code.

Idempotent: a second run updates the secrets and replaces the policies. A folder for an unknown role is an error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from minio import MinioAdmin
from minio.credentials.providers import StaticProvider

from jobs.startup import EXIT_NOT_READY, NotReady, buckets_problem, wait_until_ready
from jobs.versitygw_admin import VersitygwAdmin
from twinlake.access import DATA_ROLES, bucket_policies, identity_policy
from twinlake.s3 import s3_client
from twinlake.settings import Settings, StoreRole

log = logging.getLogger(__name__)
STORES = ("minio", "versitygw")
Users = dict[StoreRole, tuple[str, str]]  # role -> (access key, secret key)


class MinioAdminApi(Protocol):
    """The part of `minio.MinioAdmin` this job uses."""

    def policy_add(self, policy_name: str, policy_file: str | None = None, policy: dict[str, Any] | None = None) -> Any:
        """Create or replace a canned policy."""

    def user_add(self, access_key: str, secret_key: str) -> Any:
        """Create a user, or set the secret of an existing one."""

    def policy_set(self, policy_name: str, user: str | None = None, group: str | None = None) -> Any:
        """Attach a canned policy to a user."""


def read_users(users_dir: Path) -> Users:
    """`{role: (access key, secret key)}` from `users_dir/<role>/{accessKey,secretKey}`."""
    names = ", ".join(DATA_ROLES)
    users: Users = {}
    for folder in sorted(p for p in users_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name not in DATA_ROLES:
            raise ValueError(f"{folder}: unknown role {folder.name!r}: expected one of {names}")
        access = (folder / "accessKey").read_text(encoding="utf-8").strip()
        secret = (folder / "secretKey").read_text(encoding="utf-8").strip()
        if not access or not secret:
            raise ValueError(f"{folder}: empty accessKey or secretKey")
        users[StoreRole(folder.name)] = (access, secret)
    return users


def minio_admin(settings: Settings) -> MinioAdmin:
    endpoint = urlparse(settings.s3_endpoint)
    return MinioAdmin(
        endpoint=endpoint.netloc,
        credentials=StaticProvider(
            settings.s3_access_key.get_secret_value(), settings.s3_secret_key.get_secret_value()
        ),
        region=settings.s3_region,
        secure=endpoint.scheme == "https",
    )


def ensure_minio_users(admin: MinioAdminApi, settings: Settings, users: Users) -> list[StoreRole]:
    """Create or update each role's canned policy and user; returns the roles handled."""
    for role, (access, secret) in users.items():
        policy = f"twinlake-{role}"
        admin.policy_add(policy, policy=identity_policy(role, settings))
        admin.user_add(access, secret)
        admin.policy_set(policy, user=access)
        log.info("minio user %s has policy %s", access, policy)
    return list(users)


def versitygw_admin(settings: Settings) -> VersitygwAdmin:
    return VersitygwAdmin(
        endpoint=settings.s3_endpoint,
        access_key=settings.s3_access_key.get_secret_value(),
        secret_key=settings.s3_secret_key.get_secret_value(),
        region=settings.s3_region,
    )


def ensure_versitygw_users(admin: VersitygwAdmin, client: Any, settings: Settings, users: Users) -> list[StoreRole]:
    """Create or update each role's account, then replace the lake buckets' policies; returns the roles handled.

    Accounts first: the gateway refuses a bucket policy whose principal is not an account. Landing's policy last:
    keys that can list landing then have every grant (what the engines check at start-up).
    """
    for role, (access, secret) in users.items():
        outcome = admin.ensure_account(access, secret)
        log.info("versitygw account %s (%s) %s", access, role, outcome)
    access_keys = {role: access for role, (access, _secret) in users.items()}
    policies = bucket_policies(access_keys, settings)
    for bucket in sorted(policies, key=lambda name: name == settings.landing_bucket):
        policy = policies[bucket]
        client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        log.info("bucket %s: policy with %d statements", bucket, len(policy["Statement"]))
    return list(users)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.store_users", description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=STORES, required=True, help="which S3 store to configure")
    parser.add_argument(
        "--users-dir",
        type=Path,
        required=True,
        help=f"folder of <role>/{{accessKey,secretKey}} (roles: {', '.join(DATA_ROLES)})",
    )
    parser.add_argument("--wait-seconds", type=float, default=60.0, help="longest wait for the buckets (60)")
    args = parser.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(levelname)s %(message)s")
    settings = Settings.load(role=StoreRole.ADMIN)
    users = read_users(args.users_dir)
    if not users:
        log.error("no role folder in %s", args.users_dir)
        return 1
    client = s3_client(settings)
    try:
        wait_until_ready("lake buckets", lambda: buckets_problem(client, settings.buckets), args.wait_seconds)
    except NotReady as exc:
        log.error("%s", exc)
        return EXIT_NOT_READY
    if args.store == "minio":
        handled = ensure_minio_users(minio_admin(settings), settings, users)
    else:
        handled = ensure_versitygw_users(versitygw_admin(settings), client, settings, users)
    log.info("least-privilege accounts ready: %s", ", ".join(handled))
    return 0


if __name__ == "__main__":
    sys.exit(main())
