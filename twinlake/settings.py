"""Typed settings, built once per entrypoint from `TWINLAKE_*` variables and the local stack's env file.

Only this module reads the environment. Precedence: real environment variables, then the env file written by
`make stack-up` (`TWINLAKE_ENV_FILE`, default `<state dir>/stack.env`), then the defaults below. Secrets have no
defaults: a missing one fails at start-up with its name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

from twinlake.layout import Buckets, Engine

PREFIX = "TWINLAKE_"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the local stack keeps its data, logs, PID files and env file."""
    env = os.environ if env is None else env
    default = Path(env.get("XDG_STATE_HOME", str(Path.home() / ".local" / "state"))) / "twinlake"
    return Path(env.get(f"{PREFIX}STATE_DIR", str(default)))


def env_file_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get(f"{PREFIX}ENV_FILE", str(state_dir(env) / "stack.env")))


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
    def load(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build from the environment and the env file; `overrides` (e.g. CLI flags) win over both."""
        env = dict(os.environ if env is None else env)
        merged = {**read_env_file(env_file_path(env)), **env}
        values: dict[str, object] = {}
        for name in cls.model_fields:
            key = PREFIX + name.upper()
            if key in merged and merged[key] != "":
                values[name] = merged[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        missing = [PREFIX + n.upper() for n, f in cls.model_fields.items() if f.is_required() and n not in values]
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
