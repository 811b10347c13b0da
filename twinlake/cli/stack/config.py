"""The local stack's configuration: versions, timeouts, folders, ports, topics and keys, and its env file."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from twinlake.access import DATA_ROLES
from twinlake.settings import (
    PREFIX,
    Settings,
    StoreRole,
    cache_dir,
    env_file_path,
    read_env_file,
    role_key_names,
    state_dir,
)

KAFKA_VERSION = "4.1.1"
VERSITYGW_VERSION = "v1.8.0"
VERSITYGW_MODULE = "github.com/versity/versitygw/cmd/versitygw"
MIN_JAVA = 17
EVENTS_PARTITIONS = 3
DEAD_LETTER_PARTITIONS = 1
KAFKA_HEAP = ["-Xms128m", "-Xmx512m"]

STOP_TIMEOUT_S = 20.0
KAFKA_START_TIMEOUT_S = 120.0
S3_START_TIMEOUT_S = 30.0
ALREADY_RUNNING_TIMEOUT_S = 30.0  # a process we did not just start may still be coming up
PROBE_TIMEOUT_S = 8.0
LOCK_TIMEOUT_S = 300.0
INSTALL_TIMEOUT_S = 1200.0

REPO_ROOT = Path(__file__).resolve().parents[3]
STACK_DIR = REPO_ROOT / "stack"
POM = STACK_DIR / "pom.xml"
SERVER_PROPERTIES_TEMPLATE = STACK_DIR / "server.properties.template"
LOG4J2_CONFIG = STACK_DIR / "log4j2.xml"

START_MARKER = "===== stack.py"  # written to a log before each start, so errors show only the latest run


class StackError(RuntimeError):
    """Something the user must fix (or look at) before the stack can run; the message says what."""


@dataclass(frozen=True)
class Layout:
    """Where things live on disk."""

    state: Path
    cache: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Layout:
        return cls(state=state_dir(env), cache=cache_dir(env))

    @property
    def kafka_libs(self) -> Path:
        return self.cache / f"kafka-{KAFKA_VERSION}" / "libs"

    @property
    def kafka_libs_marker(self) -> Path:
        return self.kafka_libs / ".complete"

    @property
    def versitygw_bin(self) -> Path:
        return self.cache / f"versitygw-{VERSITYGW_VERSION}" / "bin" / "versitygw"

    @property
    def kafka_data(self) -> Path:
        return self.state / "kafka" / "data"

    @property
    def kafka_properties(self) -> Path:
        return self.state / "kafka" / "server.properties"

    @property
    def s3_data(self) -> Path:
        return self.state / "s3-data"

    @property
    def s3_sidecar(self) -> Path:
        return self.state / "s3-meta"

    @property
    def s3_iam(self) -> Path:
        return self.state / "s3-iam"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def run(self) -> Path:
        return self.state / "run"


Keys = tuple[str, str]  # (access key id, secret key)


@dataclass(frozen=True)
class StackConfig:
    """Ports, topics and credentials of the stack, as written to the env file."""

    kafka_port: int
    controller_port: int
    s3_port: int
    region: str
    events_topic: str
    dead_letter_topic: str
    admin_keys: Keys | None  # the gateway's root: used by this script only
    role_keys: dict[StoreRole, Keys | None]  # each data role's account

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def complete(self) -> bool:
        return self.admin_keys is not None and all(self.role_keys.get(role) for role in DATA_ROLES)

    def env_lines(self) -> dict[str, str]:
        keys: dict[str, str] = {}
        for role, pair in [(StoreRole.ADMIN, self.admin_keys), *self.role_keys.items()]:
            if pair is not None:
                names = role_key_names(role)
                keys |= {names[0]: pair[0], names[1]: pair[1]}
        return {
            "TWINLAKE_S3_ENDPOINT": self.s3_endpoint,
            "TWINLAKE_S3_REGION": self.region,
            **keys,
            "TWINLAKE_KAFKA_BOOTSTRAP": self.bootstrap,
            "TWINLAKE_EVENTS_TOPIC": self.events_topic,
            "TWINLAKE_DEAD_LETTER_TOPIC": self.dead_letter_topic,
            # Not Settings fields: kept so that `status`/`down` find a stack started on non-default ports.
            "TWINLAKE_KAFKA_PORT": str(self.kafka_port),
            "TWINLAKE_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "TWINLAKE_S3_PORT": str(self.s3_port),
        }


def _default(field: str) -> str:
    return str(Settings.model_fields[field].default)


def _port(values: Mapping[str, str], name: str, default: int) -> int:
    raw = values.get(name, "") or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise StackError(f"{name}={raw!r} is not a TCP port (1-65535)")
    return int(raw)


def _keys(values: Mapping[str, str], names: tuple[str, str]) -> Keys | None:
    access, secret = values.get(names[0], ""), values.get(names[1], "")
    return (access, secret) if access and secret else None


def load_config(env: Mapping[str, str]) -> StackConfig:
    """Merge environment > env file > defaults. A role's keys stay None if neither has them.

    The root keys are `TWINLAKE_S3_ADMIN_*`; an env file from before the roles held them as the generic
    `TWINLAKE_S3_ACCESS_KEY` / `_SECRET_KEY`, which are taken then (from the file only: an exported generic
    pair is some entrypoint's role keys, never the root).
    """
    file = read_env_file(env_file_path(env))
    values = {**file, **{k: v for k, v in env.items() if v}}
    generic = (f"{PREFIX}S3_ACCESS_KEY", f"{PREFIX}S3_SECRET_KEY")
    return StackConfig(
        kafka_port=_port(values, "TWINLAKE_KAFKA_PORT", 9092),
        controller_port=_port(values, "TWINLAKE_KAFKA_CONTROLLER_PORT", 9093),
        s3_port=_port(values, "TWINLAKE_S3_PORT", 7070),
        region=values.get("TWINLAKE_S3_REGION", _default("s3_region")),
        events_topic=values.get("TWINLAKE_EVENTS_TOPIC", _default("events_topic")),
        dead_letter_topic=values.get("TWINLAKE_DEAD_LETTER_TOPIC", _default("dead_letter_topic")),
        admin_keys=_keys(values, role_key_names(StoreRole.ADMIN)) or _keys(file, generic),
        role_keys={role: _keys(values, role_key_names(role)) for role in DATA_ROLES},
    )


def new_keys(name: str) -> Keys:
    return f"twinlake-{name}-{secrets.token_hex(6)}", secrets.token_urlsafe(30)


def with_credentials(config: StackConfig) -> StackConfig:
    """The config with freshly generated keys for whoever has none yet (everyone, on the first `up`)."""
    roles: dict[StoreRole, Keys | None] = {role: config.role_keys.get(role) or new_keys(role) for role in DATA_ROLES}
    return replace(config, admin_keys=config.admin_keys or new_keys("root"), role_keys=roles)


def write_env_file(path: Path, config: StackConfig) -> None:
    """Write the env file atomically with mode 0600 (it holds the S3 secret)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = (
        "# Written by `make stack-up` (twinlake stack up): the local twinlake stack. Local-only secrets.\n"
        "# TWINLAKE_S3_ADMIN_* are the store's root keys, for stack-up alone; each entrypoint uses its role's.\n"
    )
    body += "".join(f"{key}={value}\n" for key, value in config.env_lines().items())
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(body)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def bucket_names(env: Mapping[str, str]) -> tuple[str, ...]:
    values = {**read_env_file(env_file_path(env)), **env}
    fields = ("landing_bucket", "bronze_bucket", "silver_bucket", "gold_bucket")
    return tuple(values.get(f"TWINLAKE_{f.upper()}") or _default(f) for f in fields)
