"""jobs/store_users.py: the least-privilege accounts the chart's store-init Job creates on MinIO and versitygw."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jobs.store_users import ensure_minio_users, ensure_versitygw_users, read_users
from twinlake.access import DATA_ROLES
from twinlake.settings import Settings, StoreRole

pytestmark = pytest.mark.chart
SETTINGS = Settings(s3_access_key="root", s3_secret_key="rootsecret")  # type: ignore[arg-type]


def _users_dir(tmp_path: Path) -> Path:
    for role in DATA_ROLES:
        (tmp_path / role).mkdir()
        (tmp_path / role / "accessKey").write_text(f"twinlake-{role}\n")
        (tmp_path / role / "secretKey").write_text(f"{role}-secret")
    (tmp_path / "..data").mkdir()  # Kubernetes' secret volume internals are ignored
    return tmp_path


def test_users_are_read_from_mounted_secrets_and_unknown_roles_refused(tmp_path: Path) -> None:
    users = read_users(_users_dir(tmp_path))
    assert set(users) == set(DATA_ROLES)
    assert users[StoreRole.BENCHMARK] == ("twinlake-benchmark", "benchmark-secret")
    (tmp_path / "admin").mkdir()  # the root's keys are never an account of their own
    with pytest.raises(ValueError, match="unknown role 'admin'"):
        read_users(tmp_path)


def test_minio_users_get_their_canned_policy_idempotently(tmp_path: Path) -> None:
    class FakeMinioAdmin:
        def __init__(self) -> None:
            self.calls: list[tuple[str, ...]] = []
            self.policies: dict[str, dict[str, Any]] = {}

        def policy_add(self, policy_name: str, policy_file: str | None = None, policy: Any = None) -> None:
            self.calls.append(("policy_add", policy_name))
            self.policies[policy_name] = policy

        def user_add(self, access_key: str, secret_key: str) -> None:
            self.calls.append(("user_add", access_key))

        def policy_set(self, policy_name: str, user: str | None = None, group: str | None = None) -> None:
            self.calls.append(("policy_set", policy_name, str(user)))

    admin = FakeMinioAdmin()
    users = read_users(_users_dir(tmp_path))
    assert sorted(ensure_minio_users(admin, SETTINGS, users)) == sorted(DATA_ROLES)
    ensure_minio_users(admin, SETTINGS, users)
    assert ("policy_set", "twinlake-benchmark", "twinlake-benchmark") in admin.calls
    assert admin.calls.count(("user_add", "twinlake-dashboard")) == 2
    resources = {r for s in admin.policies["twinlake-uploader"]["Statement"] for r in s["Resource"]}
    assert resources == {"arn:aws:s3:::landing", "arn:aws:s3:::landing/*"}


def test_versitygw_accounts_come_before_the_bucket_policies_that_name_them(tmp_path: Path) -> None:
    calls: list[tuple[str, str]] = []

    class FakeGatewayAdmin:
        def ensure_account(self, access: str, secret: str, role: str = "user") -> str:
            calls.append(("account", access))
            return "created"

    class FakeS3:
        def __init__(self) -> None:
            self.policies: dict[str, dict[str, Any]] = {}

        def put_bucket_policy(self, Bucket: str, Policy: str) -> None:  # boto3's argument names
            calls.append(("policy", Bucket))
            self.policies[Bucket] = json.loads(Policy)

    s3 = FakeS3()
    users = read_users(_users_dir(tmp_path))
    ensure_versitygw_users(FakeGatewayAdmin(), s3, SETTINGS, users)  # type: ignore[arg-type]
    kinds = [kind for kind, _ in calls]
    assert kinds == ["account"] * len(DATA_ROLES) + ["policy"] * 4
    assert calls[-1] == ("policy", "landing"), "landing's grants last: listing landing means every grant is there"
    assert set(s3.policies) == {"landing", "bronze", "silver", "gold"}
    principals = {p for s in s3.policies["landing"]["Statement"] for p in s["Principal"]["AWS"]}
    assert principals == {"twinlake-uploader", "twinlake-engines", "twinlake-benchmark"}  # not the dashboard
