"""The local stack's S3 store: versitygw on a local folder, its buckets, and an account per store role."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from jobs.store_users import ensure_versitygw_users, versitygw_admin
from jobs.versitygw_admin import AdminError
from twinlake.cli.stack.config import S3_START_TIMEOUT_S, VERSITYGW_VERSION, Layout, StackConfig, StackError
from twinlake.cli.stack.install import ports_in_use
from twinlake.cli.stack.probes import root_keys, s3_client, s3_problem, wait_healthy
from twinlake.cli.stack.processes import VERSITYGW, child_env, spawn
from twinlake.settings import (
    Settings,
)


def supports_xattrs(directory: Path) -> bool:
    """versitygw's posix backend keeps object metadata in user xattrs; probe that the filesystem has them."""
    name = "user.twinlake_probe"
    try:
        os.setxattr(directory, name, b"1")
        os.removexattr(directory, name)
    except OSError:
        return False
    return True


def start_versitygw(layout: Layout, config: StackConfig) -> None:
    busy = ports_in_use({"S3": config.s3_port})
    if busy:
        raise StackError("; ".join(busy) + " (set TWINLAKE_S3_PORT)")
    layout.s3_data.mkdir(parents=True, exist_ok=True)
    layout.s3_iam.mkdir(mode=0o700, parents=True, exist_ok=True)
    backend = ["posix"]
    if not supports_xattrs(layout.s3_data):
        layout.s3_sidecar.mkdir(parents=True, exist_ok=True)
        backend += ["--sidecar", str(layout.s3_sidecar)]
        print(f"      (no xattrs on {layout.s3_data}: metadata goes to {layout.s3_sidecar})", end="")
    cmd = [
        str(layout.versitygw_bin),
        "--port",
        f"127.0.0.1:{config.s3_port}",
        "--region",
        config.region,
        "--quiet",
        "--iam-dir",
        str(layout.s3_iam),
        "--event-kafka-url",
        config.bootstrap,
        "--event-kafka-topic",
        config.events_topic,
        *backend,
        str(layout.s3_data),
    ]
    # Credentials through the environment, not argv: argv is visible to every user in `ps`.
    access, secret = root_keys(config)
    env = child_env({"ROOT_ACCESS_KEY_ID": access, "ROOT_SECRET_ACCESS_KEY": secret})
    proc = spawn(VERSITYGW, layout, cmd, env)
    wait_healthy(VERSITYGW, layout, lambda: s3_problem(config), S3_START_TIMEOUT_S, proc)


def ensure_buckets(config: StackConfig, buckets: tuple[str, ...]) -> None:
    client = s3_client(config)
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", []) if "Name" in b}
    for bucket in buckets:
        if bucket in existing:
            continue
        try:
            client.create_bucket(Bucket=bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {
                "BucketAlreadyOwnedByYou",
                "BucketAlreadyExists",
            }:
                raise


def ensure_accounts(config: StackConfig, env: Mapping[str, str]) -> None:
    """An account per data role and the lake buckets' policies, with the code the chart's init Job runs."""
    access, secret = root_keys(config)
    settings = Settings.load(
        env, s3_endpoint=config.s3_endpoint, s3_region=config.region, s3_access_key=access, s3_secret_key=secret
    )
    users = {role: keys for role, keys in config.role_keys.items() if keys is not None}
    try:
        ensure_versitygw_users(versitygw_admin(settings), s3_client(config), settings, users)
    except (AdminError, ClientError, BotoCoreError) as exc:
        raise StackError(f"could not create the store's accounts and bucket policies: {exc}") from exc


def gateway_outdated(pid: int, layout: Layout) -> str | None:
    """Why the running gateway is not the one `up` starts now (another binary, no accounts), else None."""
    try:
        argv = [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        return None  # no procfs: nothing to compare
    if not argv or argv[0] != str(layout.versitygw_bin):
        return f"it runs {argv[0] if argv else 'an unknown binary'}, not versitygw {VERSITYGW_VERSION}"
    if "--iam-dir" not in argv:
        return "it runs without accounts (no --iam-dir)"
    return None
