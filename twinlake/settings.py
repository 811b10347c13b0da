"""Typed settings, built once per entrypoint from `TWINLAKE_*` variables and the local stack's env file.

Only this module reads the environment (code that starts a child process passes its own on). Precedence: real
environment variables, then the env file written by `make stack-up` (`TWINLAKE_ENV_FILE`, default
`<state dir>/stack.env`), then the defaults below. Secrets have no defaults: a missing one fails at start-up with its
name. The machine's folders and tools (`state_dir`, `cache_dir`, `LocalSettings`) are read here too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

from twinlake.layout import Buckets, Engine

PREFIX = "TWINLAKE_"


def environment() -> Mapping[str, str]:
    """The process environment, for the functions below and for commands that hand it on (`env=None` elsewhere)."""
    return os.environ


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the local stack keeps its data, logs, PID files and env file: `TWINLAKE_STATE_DIR`, else
    `$XDG_STATE_HOME/twinlake`, else `~/.local/state/twinlake`."""
    env = environment() if env is None else env
    default = Path(env.get("XDG_STATE_HOME", str(Path.home() / ".local" / "state"))) / "twinlake"
    return Path(env.get(f"{PREFIX}STATE_DIR", str(default)))


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where downloaded and built tools are kept (Kafka's and Spark's jars, versitygw, helm, the control plane):
    `TWINLAKE_CACHE_DIR`, else `$XDG_CACHE_HOME/twinlake`, else `~/.cache/twinlake`."""
    env = environment() if env is None else env
    default = Path(env.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))) / "twinlake"
    return Path(env.get(f"{PREFIX}CACHE_DIR", str(default)))


def env_file_path(env: Mapping[str, str] | None = None) -> Path:
    env = environment() if env is None else env
    return Path(env.get(f"{PREFIX}ENV_FILE", str(state_dir(env) / "stack.env")))


@dataclass(frozen=True)
class LocalSettings:
    """What an entrypoint takes from this machine rather than from the stack: its Java and Spark, and tuning.

    `spark_master`, `spark_driver_memory`: None means the engine's default; `go_build_parallelism`: packages
    `go build` compiles at once (`-p`), small because a cold control-plane build is large.
    """

    java_home: Path | None = None
    spark_home: Path | None = None
    spark_master: str | None = None
    spark_driver_memory: str | None = None
    spark_log_level: str = "WARN"
    go_build_parallelism: str = "2"

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> LocalSettings:
        """From `JAVA_HOME`, `SPARK_HOME`, `TWINLAKE_SPARK_MASTER`, `TWINLAKE_SPARK_DRIVER_MEMORY`,
        `TWINLAKE_SPARK_LOG_LEVEL` and `TWINLAKE_GO_BUILD_P`; an empty variable counts as unset for the paths
        and the master."""
        env = environment() if env is None else env

        def path(name: str) -> Path | None:
            return Path(env[name]) if env.get(name) else None

        return cls(
            java_home=path("JAVA_HOME"),
            spark_home=path("SPARK_HOME"),
            spark_master=env.get(f"{PREFIX}SPARK_MASTER") or None,
            spark_driver_memory=env.get(f"{PREFIX}SPARK_DRIVER_MEMORY"),
            spark_log_level=env.get(f"{PREFIX}SPARK_LOG_LEVEL", cls.spark_log_level),
            go_build_parallelism=env.get(f"{PREFIX}GO_BUILD_P", cls.go_build_parallelism),
        )


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a `KEY=value` file (comments and blank lines ignored; values may be single- or double-quoted)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


class StoreRole(StrEnum):
    """Who an entrypoint is to the object store; each role has its own least-privilege keys.

    - `uploader`: writes `landing` (the producers);
    - `engines`: reads `landing`, reads and writes `bronze`, `silver`, `gold` (both engines, retention);
    - `dashboard`: reads `gold` and Silver's rejected tables;
    - `benchmark`: writes `landing` and `gold/benchmarks/`, reads `gold`;
    - `admin`: the store's root keys, for setting the store up (buckets, accounts) and nothing else.
    """

    UPLOADER = "uploader"
    ENGINES = "engines"
    DASHBOARD = "dashboard"
    BENCHMARK = "benchmark"
    ADMIN = "admin"


def role_key_names(role: StoreRole) -> tuple[str, str]:
    """The variables holding a role's own keys: `TWINLAKE_S3_<ROLE>_ACCESS_KEY` / `..._SECRET_KEY`."""
    return f"{PREFIX}S3_{role.upper()}_ACCESS_KEY", f"{PREFIX}S3_{role.upper()}_SECRET_KEY"


def _role_keys(role: StoreRole, env: Mapping[str, str], file: Mapping[str, str]) -> tuple[str, str] | None:
    """A role's (access, secret) keys: environment first, then the env file; the role's own pair before the
    generic one at each level, so keys a user exports are never overridden by the local stack's file."""
    pairs = (role_key_names(role), (f"{PREFIX}S3_ACCESS_KEY", f"{PREFIX}S3_SECRET_KEY"))
    for source in (env, file):
        for access, secret in pairs:
            if source.get(access) and source.get(secret):
                return source[access], source[secret]
    return None


class MissingSetting(RuntimeError):
    """A required setting (usually a secret) is not set anywhere."""


class Settings(BaseModel):
    """Everything an entrypoint needs to reach the store and the broker."""

    model_config = ConfigDict(frozen=True)

    s3_endpoint: str = "http://127.0.0.1:7070"
    s3_access_key: SecretStr
    s3_secret_key: SecretStr
    s3_region: str = "us-east-1"
    kafka_bootstrap: str = "127.0.0.1:9092"
    events_topic: str = "twinlake.store-events"
    dead_letter_topic: str = "twinlake.store-events.dlq"
    landing_bucket: str = "landing"
    bronze_bucket: str = "bronze"
    silver_bucket: str = "silver"
    gold_bucket: str = "gold"
    # Engines: events arriving within this window are handled together; a reconcile lists landing this often.
    batch_window_seconds: float = 2.0
    reconcile_seconds: float = 60.0
    # A run's "today" for date rules; None means the UTC date when the run starts (set it only in tests).
    reference_date: date | None = None
    # Longest a run may take before the broker considers the consumer dead and rebalances its partitions.
    max_run_seconds: int = 1800
    # Touched by a worker after every loop step; probes read its age (see `jobs/health.py`). None: no file.
    heartbeat_file: Path | None = None

    @classmethod
    def load(
        cls, env: Mapping[str, str] | None = None, *, role: StoreRole | None = None, **overrides: object
    ) -> Settings:
        """Build from the environment and the env file; `overrides` (e.g. CLI flags) win over both.

        With a `role`, the store keys are that role's own (`TWINLAKE_S3_<ROLE>_ACCESS_KEY` / `_SECRET_KEY`)
        where they are set, else `TWINLAKE_S3_ACCESS_KEY` / `TWINLAKE_S3_SECRET_KEY` (what a container is given
        from its role's Secret); the real environment wins over the env file, as for every setting.
        """
        env = dict(environment() if env is None else env)
        file = read_env_file(env_file_path(env))
        merged = {**file, **env}
        values: dict[str, object] = {}
        for name in cls.model_fields:
            key = PREFIX + name.upper()
            if key in merged and merged[key] != "":
                values[name] = merged[key]
        if role is not None:
            keys = _role_keys(role, env, file)
            if keys is not None:
                values["s3_access_key"], values["s3_secret_key"] = keys
        values.update({k: v for k, v in overrides.items() if v is not None})
        missing = [PREFIX + n.upper() for n, f in cls.model_fields.items() if f.is_required() and n not in values]
        if role is not None:  # name the role's own variables, which the env file of `make stack-up` holds
            own = dict(zip((f"{PREFIX}S3_ACCESS_KEY", f"{PREFIX}S3_SECRET_KEY"), role_key_names(role), strict=True))
            missing = [f"{own[name]} (or {name})" if name in own else name for name in missing]
        if missing:
            raise MissingSetting(
                f"missing setting(s) {', '.join(missing)}: export them, or run `make stack-up` "
                f"which writes them to {env_file_path(env)}"
            )
        return cls.model_validate(values)

    @property
    def buckets(self) -> tuple[str, str, str, str]:
        return (self.landing_bucket, self.bronze_bucket, self.silver_bucket, self.gold_bucket)

    @property
    def lake(self) -> Buckets:
        return Buckets(bronze=self.bronze_bucket, silver=self.silver_bucket, gold=self.gold_bucket)

    def consumer_group(self, engine: Engine) -> str:
        """Each engine consumes every event, so each has its own consumer group."""
        return f"twinlake-{engine}"
