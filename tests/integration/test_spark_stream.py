"""The Spark streaming engine as a real process on the real stack, next to the Pandas worker.

upload -> store events -> Kafka -> both engines -> one run each for the input set, same counts, pointers moved;
a restart on the same checkpoint makes no run, a change made while it was down makes exactly one; a batch that
cannot reach the gold bucket fails the query and the process exits non-zero; with no event at all (a topic of its
own, empty), the driver's periodic reconcile still runs a new input set, and a reconcile that fails exits non-zero.

Every test uploads under keys of its own (`<dataset>/<unique day>.csv`), so earlier runs of the same generated
data (same ETags) never make the input set look already done.
"""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from producers.upload import upload_paths
from tests.processes import EngineProcess, wait_for_log, wait_until
from tests.processes import engine_env as engine_env_at
from twinlake.datasets import DatasetName
from twinlake.inputs import input_fingerprint, list_landing, missing_datasets
from twinlake.layout import Engine, Location, engine_pointer, global_pointer
from twinlake.manifest import LatestRunPointer, RunManifest, read_manifest
from twinlake.pointer import read_pointer, run_order
from twinlake.s3 import s3_client
from twinlake.settings import Settings
from twinlake.store import S3Store

pytestmark = [pytest.mark.integration, pytest.mark.spark]
pytest.importorskip("pyspark", reason="the `spark` extra is not installed")

AS_OF = date(2026, 11, 26)
REPO = Path(__file__).resolve().parents[2]
SPARK_RUN_TIMEOUT = 240.0  # session start + a run of 3 x 3,000 rows on a loaded 2-core machine, with margin
PANDAS_RUN_TIMEOUT = 120.0
TRIGGER = "2 seconds"


def engine_env(**overrides: str) -> dict[str, str]:
    return engine_env_at(AS_OF, **overrides)


def spark_process(tmp: Path, checkpoint: Path, *extra: str, env: dict[str, str] | None = None) -> EngineProcess:
    args = ["jobs.spark_engine", "--trigger", TRIGGER, "--checkpoint", checkpoint.as_uri(), *extra]
    return EngineProcess("spark", args, env or engine_env(), tmp / "spark.log")


def unique_day() -> date:
    """A day for `<dataset>/<day>.csv` keys that no earlier test run used (a random day over 80 years)."""
    return date(2000, 1, 1) + timedelta(days=random.SystemRandom().randrange(80 * 365))


def manifests_of(store: S3Store, settings: Settings, engine: Engine, fingerprint: str) -> list[RunManifest]:
    """Every manifest of `engine` whose run read exactly this input set."""
    found = []
    for obj in store.list(settings.gold_bucket, f"{engine}/"):
        if obj.key.endswith(f"-{fingerprint[:6]}/_manifest.json"):
            manifest = read_manifest(store, Location(settings.gold_bucket, obj.key))
            if manifest.input_fingerprint == fingerprint:
                found.append(manifest)
    return found


def pointed_manifest(store: S3Store, settings: Settings, engine: Engine) -> tuple[LatestRunPointer, RunManifest] | None:
    found = read_pointer(store, engine_pointer(settings.gold_bucket, engine))
    if found is None:
        return None
    return found[0], read_manifest(store, Location(settings.gold_bucket, found[0].manifest))


@pytest.fixture(scope="module")
def generated(generated_landing: Callable[..., Path]) -> Path:
    return generated_landing(3000, 21, AS_OF, 0.01)


@pytest.fixture(scope="module")
def settings(stack_settings: Settings) -> Settings:
    return stack_settings.model_copy(update={"reference_date": AS_OF})


@pytest.fixture(scope="module")
def landing(uploader_settings: Settings) -> Iterator[S3Store]:
    """The uploader's view of the store (it writes and clears landing); landing is empty before and after."""
    s = S3Store(s3_client(uploader_settings))
    s.delete_prefix(uploader_settings.landing_bucket, "")
    yield s
    s.delete_prefix(uploader_settings.landing_bucket, "")


@pytest.fixture(scope="module")
def store(settings: Settings, landing: S3Store) -> S3Store:
    """The engines' view of the store: reads landing and the lake."""
    return S3Store(s3_client(settings))


@pytest.fixture
def silent_topic(settings: Settings) -> Iterator[str]:
    """A new, empty events topic: an engine subscribed to it sees no event (as if every event were lost)."""
    name = f"twinlake.test-silent-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=10_000)
    try:
        admin.create_topics([NewTopic(name, 1, 1)], timeout_ms=10_000)
        yield name
        admin.delete_topics([name], timeout_ms=10_000)
    finally:
        admin.close()


def upload_small_set(uploader: Settings, store: S3Store, generated: Path, folder: Path, rows: int = 30) -> str:
    """Upload (as the uploader) the first `rows` rows of each generated file under new keys; returns the landing
    fingerprint."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in sorted(generated.glob("*.csv")):
        lines = source.read_text().splitlines(keepends=True)[: rows + 1]
        (folder / source.name).write_text("".join(lines))
    upload_paths(uploader, [folder], dated=True, day=unique_day(), progress=False)
    return input_fingerprint(list_landing(store, uploader.landing_bucket))


@dataclass
class FirstRuns:
    """Both engines started on an empty landing, then the generated files uploaded and run by both."""

    tmp: Path
    checkpoint: Path
    spark: EngineProcess
    pandas: EngineProcess
    fingerprint: str
    before: dict[Engine, str | None]  # run ids the engine pointers named before the upload
    spark_seconds: float
    pandas_seconds: float


@pytest.fixture(scope="module")
def first_runs(
    tmp_path_factory: pytest.TempPathFactory,
    settings: Settings,
    uploader_settings: Settings,
    store: S3Store,
    generated: Path,
) -> Iterator[FirstRuns]:
    tmp = tmp_path_factory.mktemp("spark-stream")
    checkpoint = tmp / f"checkpoint-{uuid.uuid4().hex[:8]}"
    spark = spark_process(tmp, checkpoint)
    pandas = EngineProcess("pandas", ["jobs.pandas_engine"], engine_env(), tmp / "pandas.log")
    try:
        before: dict[Engine, str | None] = {}
        for engine in (Engine.SPARK, Engine.PANDAS):
            found = read_pointer(store, engine_pointer(settings.gold_bucket, engine))
            before[engine] = None if found is None else found[0].run_id
        spark.start()
        pandas.start()
        wait_for_log(spark, "started: trigger", 120)  # session up, query started: events will be seen live
        uploaded = upload_paths(uploader_settings, [generated], dated=True, day=unique_day(), progress=False)
        landed = time.monotonic()
        inputs = list_landing(store, settings.landing_bucket)
        assert sorted((i.key, i.etag) for i in inputs) == sorted((u.key, u.etag) for u in uploaded)
        fingerprint = input_fingerprint(inputs)

        def pointed(engine: Engine) -> bool:
            found = pointed_manifest(store, settings, engine)
            return found is not None and found[1].input_fingerprint == fingerprint

        pandas_seconds = wait_until("the pandas pointer", lambda: pointed(Engine.PANDAS), PANDAS_RUN_TIMEOUT, pandas)
        wait_until("the spark pointer", lambda: pointed(Engine.SPARK), SPARK_RUN_TIMEOUT, spark)
        spark_seconds = time.monotonic() - landed
        yield FirstRuns(tmp, checkpoint, spark, pandas, fingerprint, before, spark_seconds, pandas_seconds)
    finally:
        for proc in (spark, pandas):
            proc.stop()


def test_both_engines_run_the_uploaded_input_set_once_with_equal_results(
    first_runs: FirstRuns, settings: Settings, store: S3Store
) -> None:
    time.sleep(3 * 2)  # a few more triggers: replayed and follow-up events must not make a second run
    fingerprint = first_runs.fingerprint
    runs = {engine: manifests_of(store, settings, engine, fingerprint) for engine in (Engine.SPARK, Engine.PANDAS)}
    assert [len(runs[Engine.SPARK]), len(runs[Engine.PANDAS])] == [1, 1], {
        e: [m.run_id for m in r] for e, r in runs.items()
    }
    spark, pandas = runs[Engine.SPARK][0], runs[Engine.PANDAS][0]
    assert spark.succeeded, spark.error
    assert pandas.succeeded, pandas.error
    assert spark.inputs == pandas.inputs
    assert spark.reference_date == pandas.reference_date == AS_OF
    assert spark.datasets == pandas.datasets
    assert spark.gold_row_counts == pandas.gold_row_counts
    assert sum(c.rows_rejected for c in spark.datasets.values()) > 0  # the faults were injected and caught

    pointers: dict[Engine, LatestRunPointer] = {}
    for engine, manifest in ((Engine.SPARK, spark), (Engine.PANDAS, pandas)):
        found = read_pointer(store, engine_pointer(settings.gold_bucket, engine))
        assert found is not None and found[0].run_id == manifest.run_id
        assert found[0].run_id != first_runs.before[engine]  # the pointer moved
        pointers[engine] = found[0]
    newest = max(pointers.values(), key=run_order)
    latest = read_pointer(store, global_pointer(settings.gold_bucket))
    assert latest is not None and (latest[0].engine, latest[0].run_id) == (newest.engine, newest.run_id)
    print(
        f"\nlanded-to-pointer (3k rows x 3, event path): pandas {first_runs.pandas_seconds:.1f} s, "
        f"spark {first_runs.spark_seconds:.1f} s; spark run {spark.seconds.total if spark.seconds else '?'} s; "
        f"global pointer names {newest.engine} {newest.run_id}"
    )


def test_restart_on_the_same_checkpoint_runs_only_what_changed_while_down(
    first_runs: FirstRuns, settings: Settings, uploader_settings: Settings, store: S3Store, generated: Path
) -> None:
    first_runs.pandas.stop()  # only Spark from here on (and half the CPU back)
    spark = first_runs.spark
    first = first_runs.fingerprint
    assert spark.stop() == 0, spark.log_tail()  # SIGTERM: a graceful stop exits 0

    # same checkpoint, nothing changed: no run, even with a reconcile every 5 s
    restarted = spark_process(first_runs.tmp, first_runs.checkpoint, "--reconcile-seconds", "5")
    offset = len(restarted.log_text())
    restarted.start()
    try:
        wait_for_log(restarted, "started: trigger", 120, after=offset)
        time.sleep(12)  # several triggers and two reconciles
        assert restarted.running(), restarted.log_tail()
        assert len(manifests_of(store, settings, Engine.SPARK, first)) == 1
        pointer = read_pointer(store, engine_pointer(settings.gold_bucket, Engine.SPARK))
        assert pointer is not None and pointer[0].run_id == manifests_of(store, settings, Engine.SPARK, first)[0].run_id
    finally:
        assert restarted.stop() == 0, restarted.log_tail()

    # while it is down, a new clients file lands (some rows of the generated clients: they are duplicates)
    extra = first_runs.tmp / "extra" / "clients.csv"
    extra.parent.mkdir(exist_ok=True)
    extra.write_text("".join((generated / "clients.csv").read_text().splitlines(keepends=True)[:21]))
    upload_paths(uploader_settings, [extra], dated=True, day=unique_day(), progress=False)
    second = input_fingerprint(list_landing(store, settings.landing_bucket))
    assert second != first

    again = spark_process(first_runs.tmp, first_runs.checkpoint)
    again.start()
    try:

        def pointed() -> bool:
            found = pointed_manifest(store, settings, Engine.SPARK)
            return found is not None and found[1].input_fingerprint == second

        wait_until("the spark pointer on the changed input set", pointed, SPARK_RUN_TIMEOUT, again)
        time.sleep(3 * 2)
        runs = manifests_of(store, settings, Engine.SPARK, second)
        assert len(runs) == 1 and runs[0].succeeded, [(m.run_id, m.error) for m in runs]
        assert len(manifests_of(store, settings, Engine.SPARK, first)) == 1
        old = manifests_of(store, settings, Engine.SPARK, first)[0]
        assert runs[0].datasets[DatasetName.CLIENTS].rows_in == old.datasets[DatasetName.CLIENTS].rows_in + 20
    finally:
        assert again.stop() == 0, again.log_tail()


def test_a_batch_that_cannot_write_fails_the_query_and_the_process_exits_non_zero(
    tmp_path: Path, settings: Settings, uploader_settings: Settings, store: S3Store, generated: Path
) -> None:
    if missing_datasets(list_landing(store, settings.landing_bucket)):
        upload_paths(uploader_settings, [generated], dated=True, day=unique_day(), progress=False)
    missing = f"nonexistent-{uuid.uuid4().hex[:8]}"
    proc = spark_process(
        tmp_path,
        tmp_path / "checkpoint",
        "--reconcile-seconds",
        "3600",  # only a batch can fail here
        env=engine_env(TWINLAKE_GOLD_BUCKET=missing),
    )
    proc.start()
    try:
        started = time.monotonic()
        code = proc.wait_exit(180)
        log = proc.log_text()
        assert code != 0, log[-3000:]
        assert "the streaming query failed" in log, proc.log_tail()
        assert missing in log or "NoSuchBucket" in log, proc.log_tail()
        print(f"\nexit code {code} after {time.monotonic() - started:.1f} s")
    finally:
        proc.stop()


def test_the_periodic_reconcile_runs_a_new_input_set_without_any_event(
    tmp_path: Path,
    settings: Settings,
    uploader_settings: Settings,
    store: S3Store,
    landing: S3Store,
    generated: Path,
    silent_topic: str,
) -> None:
    landing.delete_prefix(settings.landing_bucket, "")
    fingerprint = upload_small_set(uploader_settings, store, generated, tmp_path / "small")
    proc = spark_process(
        tmp_path,
        tmp_path / "checkpoint",
        "--reconcile-seconds",
        "3",
        env=engine_env(TWINLAKE_EVENTS_TOPIC=silent_topic),
    )
    proc.start()
    try:

        def pointed() -> bool:
            found = pointed_manifest(store, settings, Engine.SPARK)
            return found is not None and found[1].input_fingerprint == fingerprint

        waited = wait_until("a run started by the reconcile", pointed, SPARK_RUN_TIMEOUT, proc)
        time.sleep(8)  # more reconciles: the same input set is not run again
        runs = manifests_of(store, settings, Engine.SPARK, fingerprint)
        assert len(runs) == 1 and runs[0].succeeded, [(m.run_id, m.error) for m in runs]
        assert "periodic reconcile ran" in proc.log_text()
        # no batch saw an event (the first batch of a new query runs, empty): the reconcile made the run
        assert not re.search(r"batch \d+: [1-9]\d* messages", proc.log_text()), proc.log_tail()
        print(f"\nreconcile-started run seen after {waited:.1f} s")
    finally:
        assert proc.stop() == 0, proc.log_tail()


def test_a_failing_reconcile_stops_the_query_and_the_process_exits_non_zero(
    tmp_path: Path, settings: Settings, uploader_settings: Settings, store: S3Store, generated: Path, silent_topic: str
) -> None:
    if missing_datasets(list_landing(store, settings.landing_bucket)):
        upload_small_set(uploader_settings, store, generated, tmp_path / "small")
    missing = f"nonexistent-{uuid.uuid4().hex[:8]}"
    proc = spark_process(
        tmp_path,
        tmp_path / "checkpoint",
        "--reconcile-seconds",
        "2",
        env=engine_env(TWINLAKE_EVENTS_TOPIC=silent_topic, TWINLAKE_GOLD_BUCKET=missing),
    )
    proc.start()
    try:
        code = proc.wait_exit(180)
        assert code != 0, proc.log_tail()
        assert "the periodic reconcile failed" in proc.log_text(), proc.log_tail()
    finally:
        proc.stop()


@pytest.fixture
def private_topics(settings: Settings) -> Iterator[tuple[str, str]]:
    """An events topic and a dead-letter topic of the test's own: it alone writes to them, counts are exact."""
    suffix = uuid.uuid4().hex[:8]
    names = (f"twinlake.test-events-{suffix}", f"twinlake.test-dlq-{suffix}")
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=10_000)
    try:
        admin.create_topics([NewTopic(names[0], 3, 1), NewTopic(names[1], 1, 1)], timeout_ms=10_000)
        yield names
        admin.delete_topics(list(names), timeout_ms=10_000)
    finally:
        admin.close()


def dead_letter_records(settings: Settings, topic: str) -> list[Any]:
    """Every record of a dead-letter topic, from the start."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
    try:
        (tp,) = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign([tp])
        end = consumer.end_offsets([tp])[tp]
        consumer.seek_to_beginning(tp)
        records: list[Any] = []
        deadline = time.monotonic() + 30
        while consumer.position(tp) < end and time.monotonic() < deadline:
            records.extend(r for batch in consumer.poll(timeout_ms=500).values() for r in batch)
        return records
    finally:
        consumer.close()


POISON = [b"\xff\xfe not UTF-8", b"not json", b"[]", b'{"Records": 5}', b'{"Records": []}', b"\x00" * 10]


def produce(settings: Settings, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    try:
        for value in values:
            producer.send(topic, value=value).get(timeout=10)
    finally:
        producer.close(timeout=5)


def consume_with_spark(tmp: Path, checkpoint: Path, topics: tuple[str, str], messages: int) -> None:
    """Run the Spark engine on the test's topics until a batch has read `messages` messages, then stop it (exit 0)."""
    env = engine_env(TWINLAKE_EVENTS_TOPIC=topics[0], TWINLAKE_DEAD_LETTER_TOPIC=topics[1])
    proc = spark_process(tmp, checkpoint, "--reconcile-seconds", "3600", env=env)
    offset = len(proc.log_text())
    proc.start()
    try:
        wait_for_log(proc, f"{messages} messages", 180, after=offset)
        time.sleep(3)  # another trigger or two: the query must still run
        assert proc.running(), proc.log_tail()
    finally:
        assert proc.stop() == 0, proc.log_tail()


def sources_of(records: list[Any]) -> list[tuple[str, int, int]]:
    return [(s["topic"], s["partition"], s["offset"]) for s in (json.loads(r.value)["source"] for r in records)]


def test_a_900_kb_poison_message_is_dead_lettered_and_the_query_goes_on(
    tmp_path: Path, settings: Settings, private_topics: tuple[str, str]
) -> None:
    produce(settings, private_topics[0], [b"{" + b"x" * 900_000, b"not json"])  # 900 KB, not JSON
    consume_with_spark(tmp_path, tmp_path / "checkpoint", private_topics, 2)
    records = dead_letter_records(settings, private_topics[1])
    assert len(records) == len(set(sources_of(records))) == 2, sources_of(records)
    assert max(len(r.value) for r in records) < 1_000_000


def test_a_replay_does_not_dead_letter_a_message_twice(
    tmp_path: Path, settings: Settings, private_topics: tuple[str, str]
) -> None:
    produce(settings, private_topics[0], POISON)
    for attempt in range(2):  # a new checkpoint each time: the second process replays every message
        consume_with_spark(tmp_path, tmp_path / f"checkpoint-{attempt}", private_topics, len(POISON))
        records = dead_letter_records(settings, private_topics[1])
        sources = sources_of(records)
        assert len(records) == len(set(sources)) == len(POISON), f"attempt {attempt}: {sorted(sources)}"
