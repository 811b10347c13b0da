"""The local twinlake stack: Apache Kafka (one KRaft node) and versitygw (S3 over a local directory).

    twinlake stack up       # install on first use, start what is not running, create topics/buckets
    twinlake stack down     # stop both processes (data is kept); idempotent
    twinlake stack status   # pid, alive, port, answering, log of each; exit 0 only if all healthy

Everything listens on 127.0.0.1 and runs as plain detached processes tracked by PID files:

* Kafka 4.1.1 from its own jars on Maven Central (`stack/pom.xml`, resolved once with `mvn` into
  `<cache>/kafka-4.1.1/libs`), started as `java kafka.Kafka server.properties` after a one-time
  `kafka.tools.StorageTool format --standalone`. Ports: TWINLAKE_KAFKA_PORT (9092) for clients,
  TWINLAKE_KAFKA_CONTROLLER_PORT (9093) for the KRaft controller.
* versitygw v1.8.0 (`go install` into `<cache>/versitygw-v1.8.0/bin`), posix backend, internal IAM in
  `<state>/s3-iam` (`--iam-dir`), publishing bucket notifications to the events topic. Port: TWINLAKE_S3_PORT
  (7070). It sends a test event to Kafka when it starts and refuses to start without the broker, so Kafka and
  the topics come first. A gateway left running by an older `up` (another version, or no IAM) is restarted.

Least privilege: the gateway's root keys (`TWINLAKE_S3_ADMIN_*`) are used by this script alone, to create the
buckets, one account per store role (uploader, engines, dashboard, benchmark; `jobs.store_users`, through the
gateway's admin API) and the bucket policies that grant each role what `twinlake.access` declares. Every
entrypoint reads its own role's keys (`TWINLAKE_S3_<ROLE>_ACCESS_KEY` / `_SECRET_KEY`).

`<cache>` is `twinlake.settings.cache_dir()` (TWINLAKE_CACHE_DIR, default `~/.cache/twinlake`); data, logs, PID
files and the env file live in `twinlake.settings.state_dir()`. The env file (`twinlake.settings.env_file_path()`,
mode 0600) holds the endpoints, topic names and every role's S3 keys, generated on the first `up` and reused
afterwards; precedence for every value is: environment variable, then env file, then default. An env file written
before the roles existed (root keys as `TWINLAKE_S3_ACCESS_KEY`) keeps its root keys as the admin ones.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import secrets
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping

from twinlake.access import DATA_ROLES
from twinlake.cli.stack.config import (
    ALREADY_RUNNING_TIMEOUT_S,
    EVENTS_PARTITIONS,
    KAFKA_VERSION,
    LOCK_TIMEOUT_S,
    VERSITYGW_VERSION,
    Keys,
    Layout,
    StackConfig,
    StackError,
    bucket_names,
    load_config,
    new_keys,
    with_credentials,
    write_env_file,
)
from twinlake.cli.stack.install import (
    install_kafka_libs,
    install_versitygw,
    kafka_libs_ready,
    ports_in_use,
    require_java,
    require_tool,
)
from twinlake.cli.stack.kafka import ensure_topics, new_cluster_id, start_kafka
from twinlake.cli.stack.probes import describe, kafka_problem, s3_client, s3_problem, wait_healthy
from twinlake.cli.stack.processes import (
    KAFKA,
    VERSITYGW,
    Component,
    child_env,
    running_pid,
    spawn,
    step,
    stop,
)
from twinlake.cli.stack.store import ensure_accounts, ensure_buckets, gateway_outdated, start_versitygw
from twinlake.settings import env_file_path, environment, state_dir

__all__ = [
    "KAFKA",
    "VERSITYGW",
    "Component",
    "Keys",
    "Layout",
    "StackConfig",
    "StackError",
    "child_env",
    "cmd_down",
    "cmd_status",
    "cmd_up",
    "describe",
    "load_config",
    "main",
    "new_cluster_id",
    "new_keys",
    "quiet_client_logs",
    "require_java",
    "require_tool",
    "running_pid",
    "s3_client",
    "secrets",
    "spawn",
    "state_dir",
    "step",
    "stop",
    "up",
    "wait_healthy",
    "with_credentials",
    "write_env_file",
]


def preflight(
    layout: Layout, env: Mapping[str, str], config: StackConfig, *, kafka_running: bool, s3_running: bool
) -> str | None:
    """Check every port and prerequisite this `up` will need before starting anything; returns the java to use."""
    problems: list[str] = []
    java: str | None = None
    ports: list[tuple[str, str, int]] = []  # (what, the variable that moves it, port)
    if not kafka_running:
        ports += [("Kafka", "TWINLAKE_KAFKA_PORT", config.kafka_port)]
        ports += [("Kafka controller", "TWINLAKE_KAFKA_CONTROLLER_PORT", config.controller_port)]
    if not s3_running:
        ports += [("S3", "TWINLAKE_S3_PORT", config.s3_port)]
    if len({port for _, _, port in ports}) < len(ports):
        problems.append(f"two components on one port: {', '.join(f'{name}={port}' for _, name, port in ports)}")
    for what, name, port in ports:
        problems += [f"{busy}: set {name} to a free port" for busy in ports_in_use({what: port})]
    if not kafka_running:
        try:
            java = require_java(env)
        except StackError as exc:
            problems.append(str(exc))
    if not kafka_libs_ready(layout) and shutil.which("mvn") is None:
        problems.append(f"no `mvn` on PATH: it is needed once, to download Kafka {KAFKA_VERSION}'s jars")
    if not os.access(layout.versitygw_bin, os.X_OK) and shutil.which("go") is None:
        problems.append(f"no `go` on PATH: it is needed once, to build versitygw {VERSITYGW_VERSION}")
    if problems:
        raise StackError("nothing was started:\n  " + "\n  ".join(problems))
    return java


@contextlib.contextmanager
def exclusive(layout: Layout) -> Iterator[None]:
    """Serialise `up`/`down` (e.g. several `make test` at once): hold a lock file under the run dir."""
    layout.state.mkdir(mode=0o700, parents=True, exist_ok=True)
    layout.run.mkdir(parents=True, exist_ok=True)
    with (layout.run / "stack.lock").open("w") as handle:
        deadline, told = time.monotonic() + LOCK_TIMEOUT_S, False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StackError(f"another stack.py held {handle.name} for {LOCK_TIMEOUT_S:.0f} s") from None
                if not told:
                    print("  (waiting for another stack.py up/down to finish)", flush=True)
                    told = True
                time.sleep(0.5)
        yield


def check_already_running(component: Component, pid: int, layout: Layout, probe: Callable[[], str | None]) -> None:
    with step(f"{component.name} already running (pid {pid}), check it answers"):
        if (problem := probe()) and problem.startswith("answers, but"):
            raise StackError(
                f"{component.name} (pid {pid}) {problem}: it runs with other credentials than the env file; "
                "restart it with `make stack-down && make stack-up`"
            )
        wait_healthy(component, layout, probe, ALREADY_RUNNING_TIMEOUT_S)


def cmd_up(env: Mapping[str, str]) -> int:
    layout = Layout.from_env(env)
    with exclusive(layout):
        return up(layout, env)


def up(layout: Layout, env: Mapping[str, str]) -> int:
    started = time.monotonic()
    config = with_credentials(load_config(env))
    kafka_pid, s3_pid = running_pid(KAFKA, layout), running_pid(VERSITYGW, layout)
    java = preflight(layout, env, config, kafka_running=kafka_pid is not None, s3_running=s3_pid is not None)
    print(f"twinlake stack up (state {layout.state}, cache {layout.cache})")

    if not kafka_libs_ready(layout):
        with step(f"resolve Kafka {KAFKA_VERSION} jars with Maven into {layout.kafka_libs}"):
            install_kafka_libs(layout)
    if not os.access(layout.versitygw_bin, os.X_OK):
        with step(f"go install versitygw {VERSITYGW_VERSION} into {layout.versitygw_bin.parent}"):
            install_versitygw(layout)
    write_env_file(env_file_path(env), config)

    if kafka_pid is None:
        assert java is not None
        start_kafka(java, layout, config)
    else:
        check_already_running(KAFKA, kafka_pid, layout, lambda: kafka_problem(config.bootstrap))
    with step(f"topics {config.events_topic} ({EVENTS_PARTITIONS}p), {config.dead_letter_topic} (1p)"):
        ensure_topics(config)

    if s3_pid is not None and (why := gateway_outdated(s3_pid, layout)):
        with step(f"stop the running versitygw ({why})"):
            stop(VERSITYGW, layout)
        s3_pid = None
    if s3_pid is None:
        with step("start versitygw and wait for ListBuckets"):
            start_versitygw(layout, config)
    else:
        check_already_running(VERSITYGW, s3_pid, layout, lambda: s3_problem(config))
    buckets = bucket_names(env)
    with step(f"buckets {', '.join(buckets)}"):
        ensure_buckets(config, buckets)
    with step(f"accounts {', '.join(DATA_ROLES)} and their bucket policies"):
        ensure_accounts(config, env)

    print(f"stack up in {time.monotonic() - started:.1f} s")
    print(f"  Kafka  {config.bootstrap}   logs {KAFKA.log_file(layout)}")
    print(f"  S3     {config.s3_endpoint}   logs {VERSITYGW.log_file(layout)}")
    print(f"  env    {env_file_path(env)}")
    return 0


def cmd_down(env: Mapping[str, str]) -> int:
    layout = Layout.from_env(env)
    with exclusive(layout):
        for component in (VERSITYGW, KAFKA):  # the gateway publishes to Kafka: stop it first
            print(f"  {component.name:<10} {stop(component, layout)}")
    return 0


def cmd_status(env: Mapping[str, str]) -> int:
    layout = Layout.from_env(env)
    config = load_config(env)
    known = config.admin_keys is not None
    probes: list[tuple[Component, str, Callable[[], str | None]]] = [
        (
            KAFKA,
            f"{config.kafka_port} (controller {config.controller_port})",
            lambda: kafka_problem(config.bootstrap),
        ),
        (
            VERSITYGW,
            str(config.s3_port),
            lambda: s3_problem(config) if known else "no credentials in env file",
        ),
    ]
    healthy = True
    for component, port, probe in probes:
        pid = running_pid(component, layout)
        problem = probe() if pid is not None else "not running"
        healthy &= problem is None
        print(
            f"{component.name:<10} pid {pid or '-':<8} alive {'yes' if pid else 'no ':<4} port {port:<24} "
            f"answering {'yes' if problem is None else 'no (' + problem + ')'}"
        )
        print(f"{'':<10} log {component.log_file(layout)}")
    print(f"env file   {env_file_path(env)}{'' if known else ' (missing: run `make stack-up`)'}")
    return 0 if healthy else 1


def quiet_client_logs() -> None:
    """kafka-python logs every refused connection while the broker starts; our messages say what matters."""
    for name in ("kafka", "botocore", "urllib3"):
        logger = logging.getLogger(name)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args(argv)
    quiet_client_logs()
    commands = {"up": cmd_up, "down": cmd_down, "status": cmd_status}
    try:
        return commands[args.command](environment())
    except StackError as exc:
        print(f"\nstack {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
