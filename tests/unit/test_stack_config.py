"""The local stack's configuration (twinlake.cli.stack): every role's keys in the env file, the root's kept apart,
old files migrated."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinlake.access import DATA_ROLES
from twinlake.cli import stack
from twinlake.settings import Settings, StoreRole, read_env_file


def _env(tmp_path: Path) -> dict[str, str]:
    return {"TWINLAKE_STATE_DIR": str(tmp_path / "state")}


def test_first_up_writes_distinct_keys_per_role_and_no_generic_pair(tmp_path: Path) -> None:
    env = _env(tmp_path)
    config = stack.with_credentials(stack.load_config(env))
    path = tmp_path / "stack.env"
    stack.write_env_file(path, config)
    written = read_env_file(path)
    assert "TWINLAKE_S3_ACCESS_KEY" not in written  # an entrypoint without a role gets no keys at all
    keys = {role: Settings.load({"TWINLAKE_ENV_FILE": str(path)}, role=role).s3_access_key for role in StoreRole}
    assert len({k.get_secret_value() for k in keys.values()}) == len(StoreRole)
    assert keys[StoreRole.ADMIN].get_secret_value().startswith("twinlake-root-")
    assert path.stat().st_mode & 0o777 == 0o600


def test_keys_are_kept_across_ups(tmp_path: Path) -> None:
    env = _env(tmp_path)
    first = stack.with_credentials(stack.load_config(env))
    stack.write_env_file(stack.env_file_path(env), first)
    again = stack.with_credentials(stack.load_config(env))
    assert (again.admin_keys, again.role_keys) == (first.admin_keys, first.role_keys)


def test_an_env_file_from_before_the_roles_keeps_its_root_keys_as_admin(tmp_path: Path) -> None:
    env = _env(tmp_path)
    path = stack.env_file_path(env)
    path.parent.mkdir(parents=True)
    path.write_text("TWINLAKE_S3_ACCESS_KEY=old-root\nTWINLAKE_S3_SECRET_KEY=old-secret\n", encoding="utf-8")
    config = stack.with_credentials(stack.load_config(env))
    assert config.admin_keys == ("old-root", "old-secret")
    assert all(config.role_keys[role] for role in DATA_ROLES)


def test_exported_generic_keys_are_never_the_root_but_exported_role_keys_are_used(tmp_path: Path) -> None:
    env = _env(tmp_path) | {
        "TWINLAKE_S3_ACCESS_KEY": "someone-elses",
        "TWINLAKE_S3_SECRET_KEY": "s",
        "TWINLAKE_S3_ENGINES_ACCESS_KEY": "mine",
        "TWINLAKE_S3_ENGINES_SECRET_KEY": "m",
    }
    config = stack.with_credentials(stack.load_config(env))
    assert config.admin_keys is not None and config.admin_keys[0].startswith("twinlake-root-")
    assert config.role_keys[StoreRole.ENGINES] == ("mine", "m")


def test_a_kafka_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    """The storage tool would read `-t -xyz…` as an option: an id starting with `-` is drawn again."""
    draws = iter([b"\xfb" + bytes(15), bytes(16)])  # base64 of 0xfb… starts with "-"
    monkeypatch.setattr(stack.secrets, "token_bytes", lambda n: next(draws))
    cluster_id = stack.new_cluster_id()
    assert cluster_id == "AAAAAAAAAAAAAAAAAAAAAA" and len(cluster_id) == 22
