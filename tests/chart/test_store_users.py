"""jobs/store_users.py: the least-privilege MinIO users the chart's store-init Job creates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jobs.store_users import ROLES, ensure_users, read_users, role_policy
from twinlake.settings import Settings

pytestmark = pytest.mark.chart
SETTINGS = Settings(s3_access_key="root", s3_secret_key="rootsecret")  # type: ignore[arg-type]


def _grants(policy: dict[str, Any]) -> dict[str, set[str]]:
    grants: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        for resource in statement["Resource"]:
            grants.setdefault(resource, set()).update(statement["Action"])
    return grants


def test_engines_read_landing_and_write_only_the_lake() -> None:
    grants = _grants(role_policy("engines", SETTINGS))
    assert "s3:PutObject" not in grants["arn:aws:s3:::landing/*"]
    assert "s3:GetObject" in grants["arn:aws:s3:::landing/*"]
    for bucket in ("bronze", "silver", "gold"):
        assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} <= grants[f"arn:aws:s3:::{bucket}/*"]


def test_dashboard_is_read_only_and_uploader_writes_only_landing() -> None:
    dashboard = _grants(role_policy("dashboard", SETTINGS))
    assert all(
        actions <= {"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"}
        for actions in dashboard.values()
    )
    assert not any("landing" in r for r in dashboard)
    uploader = _grants(role_policy("uploader", SETTINGS))
    assert set(uploader) == {"arn:aws:s3:::landing", "arn:aws:s3:::landing/*"}
    with pytest.raises(ValueError):
        role_policy("admin", SETTINGS)


def test_users_are_read_from_mounted_secrets_and_applied_idempotently(tmp_path: Path) -> None:
    for role in ROLES:
        (tmp_path / role).mkdir()
        (tmp_path / role / "accessKey").write_text(f"twinlake-{role}\n")
        (tmp_path / role / "secretKey").write_text(f"{role}-secret")
    (tmp_path / "..data").mkdir()  # Kubernetes' secret volume internals are ignored
    users = read_users(tmp_path)
    assert users["engines"] == ("twinlake-engines", "engines-secret")

    class FakeAdmin:
        def __init__(self) -> None:
            self.calls: list[tuple[str, ...]] = []

        def policy_add(self, name: str, policy: dict[str, Any]) -> None:
            self.calls.append(("policy_add", name))

        def user_add(self, access: str, secret: str) -> None:
            self.calls.append(("user_add", access))

        def policy_set(self, name: str, user: str) -> None:
            self.calls.append(("policy_set", name, user))

    admin = FakeAdmin()
    assert sorted(ensure_users(admin, SETTINGS, users)) == sorted(ROLES)
    ensure_users(admin, SETTINGS, users)
    assert ("policy_set", "twinlake-dashboard", "twinlake-dashboard") in admin.calls
    (tmp_path / "intruder").mkdir()
    with pytest.raises(ValueError, match="unknown role"):
        read_users(tmp_path)
