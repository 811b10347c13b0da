"""The local stack's Kafka: one KRaft node from its own jars, its storage formatted once, and the two topics."""

from __future__ import annotations

import base64
import contextlib
import secrets
import string
import subprocess
import time

from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from twinlake.cli.stack.config import (
    DEAD_LETTER_PARTITIONS,
    EVENTS_PARTITIONS,
    KAFKA_HEAP,
    KAFKA_START_TIMEOUT_S,
    LOG4J2_CONFIG,
    SERVER_PROPERTIES_TEMPLATE,
    Layout,
    StackConfig,
    StackError,
)
from twinlake.cli.stack.install import ports_in_use
from twinlake.cli.stack.probes import kafka_admin, kafka_problem, wait_healthy
from twinlake.cli.stack.processes import KAFKA, child_env, spawn, step
from twinlake.reach import call_with_timeout


def render_server_properties(layout: Layout, config: StackConfig) -> None:
    template = string.Template(SERVER_PROPERTIES_TEMPLATE.read_text(encoding="utf-8"))
    text = template.substitute(
        kafka_port=config.kafka_port,
        controller_port=config.controller_port,
        log_dirs=str(layout.kafka_data),
    )
    layout.kafka_properties.parent.mkdir(parents=True, exist_ok=True)
    layout.kafka_properties.write_text(text, encoding="utf-8")


def java_command(java: str, layout: Layout, main_class: str, *args: str) -> list[str]:
    return [
        java,
        *KAFKA_HEAP,
        "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={LOG4J2_CONFIG}",
        "-cp",
        f"{layout.kafka_libs}/*",
        main_class,
        *args,
    ]


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes in URL-safe base64, unpadded (like `kafka-storage random-uuid`).

    Never starting with `-`: the storage tool would read such an id as an option (Kafka's own `Uuid.randomUuid`
    draws again for the same reason)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def format_kafka_storage(java: str, layout: Layout) -> None:
    """Format the KRaft log dir (first start only): a dynamic quorum with this node as its only voter."""
    layout.kafka_data.mkdir(parents=True, exist_ok=True)
    args = ["format", "-t", new_cluster_id(), "-c", str(layout.kafka_properties), "--standalone"]
    cmd = java_command(java, layout, "kafka.tools.StorageTool", *args)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, env=child_env())
    if out.returncode != 0:
        raise StackError(f"formatting Kafka storage failed:\n{(out.stdout + out.stderr).strip()}")


def start_kafka(java: str, layout: Layout, config: StackConfig) -> None:
    busy = ports_in_use({"Kafka": config.kafka_port, "Kafka controller": config.controller_port})
    if busy:
        raise StackError("; ".join(busy) + " (set TWINLAKE_KAFKA_PORT / TWINLAKE_KAFKA_CONTROLLER_PORT)")
    render_server_properties(layout, config)
    if not (layout.kafka_data / "meta.properties").is_file():
        with step("format Kafka storage (first start)"):
            format_kafka_storage(java, layout)
    with step("start Kafka and wait for metadata"):
        cmd = java_command(java, layout, "kafka.Kafka", str(layout.kafka_properties))
        proc = spawn(KAFKA, layout, cmd, child_env())
        wait_healthy(KAFKA, layout, lambda: kafka_problem(config.bootstrap), KAFKA_START_TIMEOUT_S, proc)


def ensure_topics(config: StackConfig) -> None:
    """Create the events and dead-letter topics if missing; fail if one has another partition count."""
    wanted = {config.events_topic: EVENTS_PARTITIONS, config.dead_letter_topic: DEAD_LETTER_PARTITIONS}

    def create_and_describe() -> dict[str, int]:
        with kafka_admin(config.bootstrap) as admin:
            existing = set(admin.list_topics())
            missing = [NewTopic(t, n, 1) for t, n in wanted.items() if t not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics(missing, timeout_ms=10_000)
            deadline = time.monotonic() + 15
            while True:
                counts = {
                    str(t["topic"]): len(t["partitions"])
                    for t in admin.describe_topics(list(wanted))
                    if t["error_code"] == 0
                }
                if set(counts) == set(wanted) or time.monotonic() > deadline:
                    return counts
                time.sleep(0.3)

    counts = call_with_timeout(create_and_describe, 40)
    for topic, partitions in wanted.items():
        if topic not in counts:
            raise StackError(f"topic {topic} still not visible after creating it")
        if counts[topic] != partitions:
            raise StackError(
                f"topic {topic} exists with {counts[topic]} partitions, the stack needs exactly "
                f"{partitions}: delete it (or the state dir) and run `make stack-up` again"
            )
