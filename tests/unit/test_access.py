"""twinlake.access: each role's grants and the policy documents compiled from them (both forms, same grants)."""

from __future__ import annotations

from typing import Any

import pytest

from twinlake.access import DATA_ROLES, bucket_policies, identity_policy, role_grants
from twinlake.settings import Settings, StoreRole

SETTINGS = Settings(s3_access_key="k", s3_secret_key="s")  # type: ignore[arg-type]
WRITES = {"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}


def _actions_by_resource(statements: list[dict[str, Any]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for resource in statement["Resource"]:
            found.setdefault(resource.removeprefix("arn:aws:s3:::"), set()).update(statement["Action"])
    return found


def test_the_admin_role_has_no_grants_it_bypasses_them() -> None:
    with pytest.raises(ValueError, match="root"):
        role_grants(StoreRole.ADMIN, SETTINGS)
    assert StoreRole.ADMIN not in DATA_ROLES


def test_uploader_touches_landing_only() -> None:
    grants = _actions_by_resource(identity_policy(StoreRole.UPLOADER, SETTINGS)["Statement"])
    assert set(grants) == {"landing", "landing/*"}
    assert WRITES | {"s3:GetObject"} <= grants["landing/*"]


def test_engines_read_landing_and_write_the_lake() -> None:
    grants = _actions_by_resource(identity_policy(StoreRole.ENGINES, SETTINGS)["Statement"])
    assert grants["landing/*"] == {"s3:GetObject"}
    for bucket in ("bronze", "silver", "gold"):
        assert WRITES | {"s3:GetObject"} <= grants[f"{bucket}/*"]


def test_dashboard_reads_gold_and_only_the_rejected_tables_of_silver() -> None:
    statements = identity_policy(StoreRole.DASHBOARD, SETTINGS)["Statement"]
    grants = _actions_by_resource(statements)
    assert set(grants) == {"gold", "gold/*", "silver", "silver/*/*/*_rejected/*"}
    assert not any(actions & WRITES for actions in grants.values())
    (silver_list,) = [s for s in statements if s["Resource"] == ["arn:aws:s3:::silver"]]
    assert silver_list["Action"] == ["s3:ListBucket"]  # listing limited by prefix, so nothing else may share it
    assert silver_list["Condition"]["StringLike"]["s3:prefix"] == ["*/*/*_rejected/*", "*/*/*_rejected"]


def test_benchmark_writes_landing_and_gold_benchmarks_and_reads_gold() -> None:
    grants = _actions_by_resource(identity_policy(StoreRole.BENCHMARK, SETTINGS)["Statement"])
    assert grants["landing/*"] >= WRITES
    assert grants["gold/benchmarks/*"] >= WRITES
    assert grants["gold/*"] == {"s3:GetObject"}
    assert not any(r.startswith(("bronze", "silver")) for r in grants)


def test_bucket_policies_name_each_role_and_stay_within_their_bucket() -> None:
    keys = {role: f"key-{role}" for role in DATA_ROLES}
    policies = bucket_policies(keys, SETTINGS)
    assert set(policies) == {"landing", "bronze", "silver", "gold"}
    for bucket, policy in policies.items():
        for statement in policy["Statement"]:
            assert len(statement["Principal"]["AWS"]) == 1
            assert all(r.removeprefix("arn:aws:s3:::").split("/")[0] == bucket for r in statement["Resource"])
    for role in DATA_ROLES:  # the bucket policies grant what the role's user policy grants, no more, no less
        mine = [
            {k: v for k, v in s.items() if k != "Principal"}
            for policy in policies.values()
            for s in policy["Statement"]
            if s["Principal"]["AWS"] == [keys[role]]
        ]
        assert _actions_by_resource(mine) == _actions_by_resource(identity_policy(role, SETTINGS)["Statement"])


def test_bucket_names_come_from_settings() -> None:
    renamed = SETTINGS.model_copy(update={"landing_bucket": "in", "gold_bucket": "out"})
    grants = _actions_by_resource(identity_policy(StoreRole.BENCHMARK, renamed)["Statement"])
    assert set(grants) == {"in", "in/*", "out", "out/*", "out/benchmarks/*"}
