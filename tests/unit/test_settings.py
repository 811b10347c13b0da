"""Settings: precedence of environment, env file and overrides, each store role's keys, and the machine's folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinlake.settings import (
    LocalSettings,
    MissingSetting,
    Settings,
    StoreRole,
    cache_dir,
    env_file_path,
    role_key_names,
    state_dir,
)


def _env_file(tmp_path: Path, lines: list[str]) -> dict[str, str]:
    path = tmp_path / "stack.env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"TWINLAKE_ENV_FILE": str(path)}


def test_environment_wins_over_env_file_and_overrides_win_over_both(tmp_path: Path) -> None:
    env = _env_file(
        tmp_path, ["TWINLAKE_S3_ACCESS_KEY=file", "TWINLAKE_S3_SECRET_KEY=filesecret", "TWINLAKE_GOLD_BUCKET=g1"]
    )
    env["TWINLAKE_GOLD_BUCKET"] = "g2"
    assert Settings.load(env).gold_bucket == "g2"
    assert Settings.load(env, gold_bucket="g3").gold_bucket == "g3"
    assert Settings.load(env).s3_access_key.get_secret_value() == "file"


def test_missing_secret_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(MissingSetting, match="TWINLAKE_S3_ACCESS_KEY"):
        Settings.load(_env_file(tmp_path, []))


def test_role_keys_from_env_file_replace_the_generic_ones(tmp_path: Path) -> None:
    access, secret = role_key_names(StoreRole.DASHBOARD)
    assert (access, secret) == ("TWINLAKE_S3_DASHBOARD_ACCESS_KEY", "TWINLAKE_S3_DASHBOARD_SECRET_KEY")
    env = _env_file(
        tmp_path, ["TWINLAKE_S3_ACCESS_KEY=root", "TWINLAKE_S3_SECRET_KEY=r", f"{access}=dash", f"{secret}=d"]
    )
    assert Settings.load(env, role=StoreRole.DASHBOARD).s3_access_key.get_secret_value() == "dash"
    assert Settings.load(env, role=StoreRole.UPLOADER).s3_access_key.get_secret_value() == "root"  # no own keys
    assert Settings.load(env).s3_access_key.get_secret_value() == "root"


def test_exported_keys_win_over_the_role_keys_of_the_env_file(tmp_path: Path) -> None:
    access, secret = role_key_names(StoreRole.ENGINES)
    env = _env_file(tmp_path, [f"{access}=stack", f"{secret}=s"])
    env |= {"TWINLAKE_S3_ACCESS_KEY": "mine", "TWINLAKE_S3_SECRET_KEY": "m"}
    assert Settings.load(env, role=StoreRole.ENGINES).s3_access_key.get_secret_value() == "mine"
    env |= {access: "exported-role", secret: "e"}
    assert Settings.load(env, role=StoreRole.ENGINES).s3_access_key.get_secret_value() == "exported-role"


def test_a_role_key_without_its_secret_is_not_used(tmp_path: Path) -> None:
    access, _secret = role_key_names(StoreRole.BENCHMARK)
    env = _env_file(tmp_path, ["TWINLAKE_S3_ACCESS_KEY=root", "TWINLAKE_S3_SECRET_KEY=r", f"{access}=half"])
    assert Settings.load(env, role=StoreRole.BENCHMARK).s3_access_key.get_secret_value() == "root"


def test_missing_role_keys_name_the_role_variables(tmp_path: Path) -> None:
    with pytest.raises(MissingSetting, match=r"TWINLAKE_S3_UPLOADER_ACCESS_KEY \(or TWINLAKE_S3_ACCESS_KEY\)"):
        Settings.load(_env_file(tmp_path, []), role=StoreRole.UPLOADER)


def test_cache_dir_is_under_home_unless_a_variable_moves_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir({}) == tmp_path / "home" / ".cache" / "twinlake"
    assert cache_dir({"XDG_CACHE_HOME": "/xdg"}) == Path("/xdg/twinlake")
    assert cache_dir({"TWINLAKE_CACHE_DIR": "/mine"}) == Path("/mine")
    assert cache_dir({"XDG_CACHE_HOME": "/xdg", "TWINLAKE_CACHE_DIR": "/mine"}) == Path("/mine")  # ours wins


def test_cache_dir_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWINLAKE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/from-the-process")
    assert cache_dir() == Path("/from-the-process/twinlake")


def test_state_dir_and_env_file_follow_the_state_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert state_dir({}) == tmp_path / "home" / ".local" / "state" / "twinlake"
    assert state_dir({"XDG_STATE_HOME": "/xdg"}) == Path("/xdg/twinlake")
    assert state_dir({"XDG_STATE_HOME": "/xdg", "TWINLAKE_STATE_DIR": "/st"}) == Path("/st")
    assert env_file_path({"TWINLAKE_STATE_DIR": "/st"}) == Path("/st/stack.env")
    assert env_file_path({"TWINLAKE_STATE_DIR": "/st", "TWINLAKE_ENV_FILE": "/e.env"}) == Path("/e.env")


def test_local_settings_defaults_and_variables() -> None:
    assert LocalSettings.load({}) == LocalSettings()
    assert LocalSettings.load({}).spark_log_level == "WARN"
    assert LocalSettings.load({}).go_build_parallelism == "2"
    local = LocalSettings.load(
        {
            "JAVA_HOME": "/jdk",
            "SPARK_HOME": "/spark",
            "TWINLAKE_SPARK_MASTER": "local[2]",
            "TWINLAKE_SPARK_DRIVER_MEMORY": "1g",
            "TWINLAKE_SPARK_LOG_LEVEL": "ERROR",
            "TWINLAKE_GO_BUILD_P": "1",
        }
    )
    assert local == LocalSettings(Path("/jdk"), Path("/spark"), "local[2]", "1g", "ERROR", "1")


def test_empty_paths_and_master_count_as_unset() -> None:
    local = LocalSettings.load({"JAVA_HOME": "", "SPARK_HOME": "", "TWINLAKE_SPARK_MASTER": ""})
    assert (local.java_home, local.spark_home, local.spark_master) == (None, None, None)
