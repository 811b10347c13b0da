"""Who may do what in the lake: each store role's grants, declared once, compiled to S3 policy documents.

A role's grants are data (`role_grants`); `identity_policy` compiles them into a user policy (MinIO's canned
policies, AWS IAM), `bucket_policies` into one bucket policy per bucket naming each role's access key as its
principal (versitygw's internal IAM, which has accounts but no user policies). Both forms grant exactly the
same actions on the same resources, so a role is denied (AccessDenied) everywhere else on either store:

- uploader: reads, lists and writes `landing` (puts the files, reads them back, clears them);
- engines: read and list `landing`; read, list, write and delete in `bronze`, `silver`, `gold` (runs,
  manifests, pointers, the Spark checkpoint, retention of orphaned runs);
- dashboard: reads and lists `gold` (Gold tables, manifests, pointers) and Silver's rejected tables
  (`silver/<engine>/<run_id>/<dataset>_rejected/`), nothing else of Silver;
- benchmark: reads, lists and writes `landing` (it swaps the input set; a server-side copy out of landing needs
  read on its source), reads and lists `gold`, writes only under `gold/benchmarks/`.

The `admin` role is the store's root: it creates buckets and accounts and is never given to an entrypoint
that processes data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twinlake.layout import REJECTED_SUFFIX
from twinlake.settings import Settings, StoreRole

BENCHMARKS_PREFIX = "benchmarks/"  # gold/benchmarks/<id>/...: the only part of gold the benchmark writes
REJECTED_TABLES = f"*/*/*{REJECTED_SUFFIX}/*"  # silver/<engine>/<run_id>/<dataset>_rejected/<file>
POLICY_VERSION = "2012-10-17"
ARN_PREFIX = "arn:aws:s3:::"

READ_OBJECTS = ("s3:GetObject",)
WRITE_OBJECTS = ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts")
LIST_BUCKET = ("s3:ListBucket", "s3:GetBucketLocation")
LIST_UPLOADS = ("s3:ListBucketMultipartUploads",)
# Roles that get their own keys; `admin` (the root keys) is deliberately not one of them.
DATA_ROLES = (StoreRole.UPLOADER, StoreRole.ENGINES, StoreRole.DASHBOARD, StoreRole.BENCHMARK)


@dataclass(frozen=True)
class Grant:
    """Objects of one bucket whose keys match `keys` (`*` = every key) may be read and listed, or written."""

    bucket: str
    keys: str = "*"
    read: bool = False
    write: bool = False


def role_grants(role: StoreRole, settings: Settings) -> tuple[Grant, ...]:
    """Everything `role` may do in the buckets named by `settings`; raises ValueError for `admin`."""
    s = settings
    lake = (s.bronze_bucket, s.silver_bucket, s.gold_bucket)
    grants: dict[StoreRole, tuple[Grant, ...]] = {
        StoreRole.UPLOADER: (Grant(s.landing_bucket, read=True, write=True),),
        StoreRole.ENGINES: (
            Grant(s.landing_bucket, read=True),
            *(Grant(bucket, read=True, write=True) for bucket in lake),
        ),
        StoreRole.DASHBOARD: (Grant(s.gold_bucket, read=True), Grant(s.silver_bucket, REJECTED_TABLES, read=True)),
        StoreRole.BENCHMARK: (
            Grant(s.landing_bucket, read=True, write=True),
            Grant(s.gold_bucket, read=True),
            Grant(s.gold_bucket, f"{BENCHMARKS_PREFIX}*", write=True),
        ),
    }
    if role not in grants:
        raise ValueError(f"role {role} is the store's root: it has no grants, it bypasses them")
    return grants[role]


def _statements(grant: Grant, principal: str | None) -> list[dict[str, Any]]:
    """The policy statements of one grant; with a principal (an access key) for a bucket policy."""
    bucket_arn = f"{ARN_PREFIX}{grant.bucket}"
    objects_arn = f"{bucket_arn}/{grant.keys}"
    statements: list[dict[str, Any]] = []
    if grant.read and grant.keys == "*":
        statements.append({"Action": list(LIST_BUCKET), "Resource": [bucket_arn]})
    elif grant.read:  # listing limited to the granted keys (a prefix condition applies to ListBucket alone)
        prefixes = [grant.keys, grant.keys.removesuffix("/*")]
        condition = {"StringLike": {"s3:prefix": prefixes}}
        statements.append({"Action": ["s3:ListBucket"], "Resource": [bucket_arn], "Condition": condition})
    if grant.read:
        statements.append({"Action": list(READ_OBJECTS), "Resource": [objects_arn]})
    if grant.write:
        statements.append({"Action": list(WRITE_OBJECTS), "Resource": [objects_arn]})
        if grant.keys == "*":
            statements.append({"Action": list(LIST_UPLOADS), "Resource": [bucket_arn]})
    for statement in statements:
        statement["Effect"] = "Allow"
        if principal is not None:
            statement["Principal"] = {"AWS": [principal]}
    return statements


def identity_policy(role: StoreRole, settings: Settings) -> dict[str, Any]:
    """The user policy of `role` (MinIO canned policy / AWS IAM policy document)."""
    statements = [s for grant in role_grants(role, settings) for s in _statements(grant, None)]
    return {"Version": POLICY_VERSION, "Statement": statements}


def bucket_policies(access_keys: dict[StoreRole, str], settings: Settings) -> dict[str, dict[str, Any]]:
    """A bucket policy per bucket that a role in `access_keys` (role -> its access key id) is granted.

    On versitygw a bucket's policy, once set, is what admits any account but the root: a role that is in no
    statement of a bucket is denied there.
    """
    policies: dict[str, list[dict[str, Any]]] = {bucket: [] for bucket in settings.buckets}
    for role, access_key in access_keys.items():
        for grant in role_grants(role, settings):
            policies[grant.bucket].extend(_statements(grant, access_key))
    return {bucket: {"Version": POLICY_VERSION, "Statement": st} for bucket, st in policies.items() if st}
