"""Health probes of the local stack: does the broker answer a metadata request, the store a ListBuckets."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from twinlake.cli.stack.config import PROBE_TIMEOUT_S, Keys, Layout, StackConfig, StackError
from twinlake.cli.stack.processes import Component, log_tail, pid_alive, read_pid
from twinlake.reach import call_with_timeout

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def describe(exc: BaseException) -> str:
    name, text = type(exc).__name__, str(exc)
    return name if text in ("", name) else f"{name}: {text}"


@contextlib.contextmanager
def kafka_admin(bootstrap: str) -> Iterator[KafkaAdminClient]:
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="twinlake-stack",
        request_timeout_ms=5000,
        api_version_auto_timeout_ms=3000,
        reconnect_backoff_max_ms=1000,
    )
    try:
        yield admin
    finally:
        admin.close()


def kafka_problem(bootstrap: str) -> str | None:
    """None if the broker answers a metadata request, else why not."""

    def list_topics() -> list[str]:
        with kafka_admin(bootstrap) as admin:
            return list(admin.list_topics())

    try:
        call_with_timeout(list_topics, PROBE_TIMEOUT_S)
    except (KafkaError, OSError, TimeoutError) as exc:
        return describe(exc)
    return None


def root_keys(config: StackConfig) -> Keys:
    if config.admin_keys is None:
        raise StackError("no root keys for the store in the env file: run `make stack-up`")
    return config.admin_keys


def s3_client(config: StackConfig) -> S3Client:
    """A client with the store's root keys."""
    access, secret = root_keys(config)
    return boto3.client(
        "s3",
        endpoint_url=config.s3_endpoint,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        region_name=config.region,
        config=BotoConfig(
            s3={"addressing_style": "path"},
            connect_timeout=2,
            read_timeout=5,
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )


def s3_problem(config: StackConfig) -> str | None:
    """None if the store answers ListBuckets with our credentials, else why not."""
    try:
        call_with_timeout(lambda: s3_client(config).list_buckets(), PROBE_TIMEOUT_S)
    except ClientError as exc:
        return f"answers, but {exc.response.get('Error', {}).get('Code', 'error')}: {exc}"
    except (BotoCoreError, OSError, TimeoutError) as exc:
        return describe(exc)
    return None


def wait_healthy(
    component: Component,
    layout: Layout,
    probe: Callable[[], str | None],
    timeout: float,
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll `probe` until it reports no problem; fail early if the process dies, with its log's tail."""
    deadline = time.monotonic() + timeout
    problem: str | None = "not probed"
    while time.monotonic() < deadline:
        pid = proc.pid if proc else read_pid(component, layout)
        exited = proc.poll() is not None if proc else (pid is None or not pid_alive(pid))
        if exited:
            component.pid_file(layout).unlink(missing_ok=True)
            code = f" with code {proc.returncode}" if proc else ""
            log = component.log_file(layout)
            raise StackError(f"{component.name} exited early{code}; last lines of {log}:\n{log_tail(log)}")
        problem = probe()
        if problem is None:
            return
        time.sleep(0.5)
    log = component.log_file(layout)
    raise StackError(
        f"{component.name} did not answer within {timeout:.0f} s (last error: {problem}); it is still "
        f"running, see {log} or run `make stack-down`. Last lines:\n{log_tail(log)}"
    )
