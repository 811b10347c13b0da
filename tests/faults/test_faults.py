"""The fault suite: each case injects a fault into the real local stack while both engines run as real processes,
then checks the invariants (`Harness.check_invariants`); a reader polls the pointers throughout and must never
see a partial run. Each case is bounded (`CASE_SECONDS`), the figures are printed at the end of the session.

Run with `make test-faults` (part of `make test`).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from tests.faults.harness import Harness, Upload, poll
from tests.processes import wait_for_log
from twinlake.catalog import Lake
from twinlake.datasets import DatasetName
from twinlake.dead_letter import MAX_RECORD_BYTES, dead_letter_key
from twinlake.layout import Engine, RunLayout
from twinlake.tables import read_table

pytestmark = pytest.mark.faults


def no_manifest_yet(harness: Harness, engine: Engine, fingerprint: str) -> bool:
    return not Lake(harness.store, harness.settings.lake).runs_of_input_set(engine, fingerprint)


def orphans_of(harness: Harness, engine: Engine, fingerprint: str) -> list[str]:
    """Run folders of this input set without a manifest: what a killed run leaves."""
    lake = Lake(harness.store, harness.settings.lake)
    recorded = {m.run_id for m in lake.runs(engine)}
    folders = lake.run_folders_by_layer(engine)
    return [r for r in folders if r.endswith(fingerprint[:6]) and r not in recorded]


def test_1_pandas_killed_during_silver_of_a_large_run(harness: Harness, large: dict[str, Path]) -> None:
    with harness.case("1 kill -9 Pandas worker during Silver (3 x 120k rows)") as report:
        before = harness.run_ids()
        offset = len(harness.pandas.log_text())
        uploads = harness.base_set("c1", files=large)
        fingerprint = harness.fingerprint()
        # Silver logs each dataset as it finishes it: once clients is logged, purchases' Silver is under way.
        wait_for_log(harness.pandas, "silver clients:", 60, after=offset, every=0.02)
        harness.pandas.kill()
        report.faults.append("kill -9 Pandas worker during Silver")
        assert no_manifest_yet(harness, Engine.PANDAS, fingerprint), "the run ended before the kill"
        assert orphans_of(harness, Engine.PANDAS, fingerprint), "the killed run left no folder"
        harness.start_engine(harness.pandas)
        harness.settle(report, fingerprint)
        harness.check_invariants(report, uploads, before)
        report.notes.append(f"orphan left for retention: pandas/{orphans_of(harness, Engine.PANDAS, fingerprint)[0]}")


def test_2_spark_killed_during_a_batch_restarts_on_its_checkpoint(harness: Harness) -> None:
    with harness.case("2 kill -9 Spark engine (driver JVM and Python) during a batch") as report:
        before = harness.run_ids()
        offset = len(harness.spark.log_text())
        uploads = harness.base_set("c2")
        fingerprint = harness.fingerprint()
        wait_for_log(harness.spark, f"-{fingerprint[:6]} starts on", 60, after=offset, every=0.1)
        in_batch = "relevant events" in harness.spark.log_text()[offset:]
        time.sleep(2.0)  # into the run: Bronze is being written
        harness.spark.kill()
        report.faults.append(f"kill -9 Spark engine (process group) {'in a batch' if in_batch else 'in a reconcile'}")
        assert no_manifest_yet(harness, Engine.SPARK, fingerprint), "the run ended before the kill"
        harness.start_engine(harness.spark)  # the same checkpoint: the batch is replayed
        harness.settle(report, fingerprint)
        harness.check_invariants(report, uploads, before)


def small_csv(dataset: DatasetName, first_id: int, rows: int = 3) -> bytes:
    header, row = {
        DatasetName.CLIENTS: (
            "client_id,name,email,signup_date,country",
            "{i},Client {i},c{i}@example.com,2024-01-01,France",
        ),
        DatasetName.PURCHASES: (
            "purchase_id,client_id,purchase_date,amount,product",
            "{i},{i},2025-01-01,10.50,Laptop",
        ),
        DatasetName.PROMOTIONS: ("promo_id,client_id,promo_name,promo_value", "{i},{i},WELCOME10,10.00"),
    }[dataset]
    return (header + "\n" + "".join(row.format(i=first_id + n) + "\n" for n in range(rows))).encode()


def burst(harness: Harness, case: str, count: int, threads: int = 1) -> tuple[list[Upload], float]:
    """`count` small uploads under dated keys, the datasets interleaved; returns them and the seconds taken."""
    tag = uuid.uuid4().hex[:6]
    names = list(DatasetName)
    jobs = [
        (names[i % 3], f"{names[i % 3]}/2026-11-{1 + i % 28:02d}-{case}-{tag}-{i:04d}.csv", i) for i in range(count)
    ]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        uploads = list(pool.map(lambda job: harness.put(job[1], small_csv(job[0], 1 + 3 * job[2])), jobs))
    return uploads, time.monotonic() - started


def test_3_broker_killed_during_a_burst_of_300_uploads(harness: Harness) -> None:
    with harness.case("3 kill -9 Kafka broker during 300 uploads, restarted 10 s later") as report:
        before = harness.run_ids()
        uploads: list[Upload] = []
        done = threading.Event()

        def upload_all() -> None:
            uploads.extend(burst(harness, "c3", 300)[0])
            done.set()

        uploader = threading.Thread(target=upload_all, daemon=True)
        uploader.start()
        poll(lambda: len(harness.store.list(harness.settings.landing_bucket)) >= 100, 60)
        harness.kill_component("kafka")
        killed_at = time.monotonic()
        report.faults.append("kill -9 Kafka broker after ~100 of 300 uploads")
        time.sleep(10)
        seconds = harness.restart_stack()
        report.notes.append(f"broker down {time.monotonic() - killed_at:.0f} s (restart {seconds:.0f} s)")
        uploader.join(60)
        assert done.is_set(), "the uploads did not finish"
        harness.engines_alive()  # neither engine died with the broker
        fingerprint = harness.fingerprint()
        harness.settle(report, fingerprint)
        harness.check_invariants(report, uploads, before)


def test_4_store_killed_during_a_run(harness: Harness, large: dict[str, Path]) -> None:
    with harness.case("4 kill -9 object store during a run, restarted") as report:
        before = harness.run_ids()
        pointers = {e: harness.lake.pointer(e) for e in (Engine.PANDAS, Engine.SPARK)}
        offsets = {proc.name: len(proc.log_text()) for proc in (harness.pandas, harness.spark)}
        uploads = harness.base_set("c4", files=large, rows=20_000)
        fingerprint = harness.fingerprint()
        wait_for_log(harness.pandas, f"-{fingerprint[:6]} starts on", 60, after=offsets["pandas"], every=0.02)
        harness.kill_component("versitygw")
        report.faults.append("kill -9 versitygw as the Pandas run started (3 x 20k rows)")
        time.sleep(6)
        harness.engines_alive()  # the engines keep running: the run failed on the infrastructure, it is retried
        seconds = harness.restart_stack()
        report.notes.append(f"store down ~{6 + seconds:.0f} s")
        for engine, pointer in pointers.items():  # the pointers did not move to anything partial meanwhile
            now = harness.lake.pointer(engine)
            assert now == pointer or (now is not None and now.run_id.endswith(fingerprint[:6])), (engine, now)
        harness.settle(report, fingerprint)
        harness.check_invariants(report, uploads, before)
        hit = {
            proc.name: "infrastructure failure" in proc.log_text()[offsets[proc.name] :]
            for proc in (harness.pandas, harness.spark)
        }
        assert hit["pandas"], "the Pandas run was not hit by the outage"
        failed = {engine: statuses.get("failed", 0) for engine, statuses in report.runs.items()}
        report.notes.append(f"hit by the outage and retried: {hit}; failed runs recorded: {failed}")


def test_5_a_thousand_uploads_in_ten_seconds_coalesce(harness: Harness) -> None:
    with harness.case("5 1000 small uploads") as report:
        before = harness.run_ids()
        uploads, seconds = burst(harness, "c5", 1000, threads=8)
        report.notes.append(f"1000 uploads in {seconds:.1f} s")
        fingerprint = harness.fingerprint()
        harness.settle(report, fingerprint)
        harness.check_invariants(report, uploads, before)
        report.notes.append(f"runs it took: {report.runs}")


def dead_letters_of(harness: Harness, sources: set[bytes]) -> dict[bytes, list[int]]:
    """The sizes of the dead-letter records of these source messages, from the start of the topic."""
    topic = harness.settings.dead_letter_topic
    consumer = KafkaConsumer(bootstrap_servers=harness.settings.kafka_bootstrap, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(tps)
        ends = consumer.end_offsets(tps)
        consumer.seek_to_beginning(*tps)
        found: dict[bytes, list[int]] = {}
        deadline = time.monotonic() + 30
        while any(consumer.position(tp) < ends[tp] for tp in tps) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    if r.key in sources:
                        found.setdefault(r.key, []).append(len(r.value))
        return found
    finally:
        consumer.close()


def event(bucket: str, key: str) -> bytes:
    record = {
        "eventName": "s3:ObjectCreated:Put",
        "eventTime": "2026-11-26T15:30:00Z",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 10, "eTag": "0" * 32}},
    }
    return json.dumps({"Records": [record]}).encode()


def test_6_garbage_on_the_topic(harness: Harness) -> None:
    with harness.case("6 garbage on the events topic") as report:
        before = harness.run_ids()
        rng = random.Random(6)
        poison = {
            "random bytes": b"\xff" + rng.randbytes(300),
            "invalid JSON": b'{"Records": [',
            "900 KB message": b"{" + b"x" * 900_000,
            "invalid UTF-8": b'{"Records": [{"eventName": "\xc3\x28"}]}',
        }
        harmless = {  # well-formed events: a logged skip, or a harmless look at landing
            "key with ../": event(harness.settings.landing_bucket, "clients/../../etc/passwd.csv"),
            "NUL byte in the key": event(harness.settings.landing_bucket, "clients/a\u0000b.csv"),
            "unknown bucket": event("no-such-bucket", "clients/x.csv"),
        }
        placed = harness.produce([*poison.values(), *harmless.values()])
        report.faults.append(f"{len(poison)} poison messages ({', '.join(poison)}) and {', '.join(harmless)}")
        uploads = harness.base_set("c6")  # and then real work: both engines must still be consuming
        fingerprint = harness.fingerprint()
        harness.settle(report, fingerprint)
        harness.check_invariants(report, uploads, before)
        harness.engines_alive()
        keys = {
            dead_letter_key({"topic": harness.settings.events_topic, "partition": p, "offset": o})
            for p, o in placed[: len(poison)]
        }
        found = poll(lambda: (f := dead_letters_of(harness, keys)) and set(f) == keys and f, 30, every=1)
        assert all(1 <= len(sizes) <= 2 for sizes in found.values()), found  # once, or once per engine in a race
        assert max(max(sizes) for sizes in found.values()) <= MAX_RECORD_BYTES
        report.notes.append(f"dead-letter records per poison message: {sorted(len(s) for s in found.values())}")


EDGE_CLIENTS = (
    b"\xef\xbb\xbfclient_id,name,email,signup_date,country\r\n"
    b'9001,"Smith, Ann",ann@example.com,2020-01-01,France\r\n'
    b'9002,"Bob\r\nJones",bob@example.com,2020-01-01,France\r\n'
    b'9003,"Cy ""The Hammer"" Lee",cy@example.com,2020-01-01,France\r\n'
    b'9007,"Di\nLane",di@example.com,2020-01-01,"France"\r\n'
    b'9004,"=HYPERLINK(""http://x.io"",""x"")",d@example.com,2020-01-01,France\r\n'
    b"9005,+1,e@example.com,2020-01-01,France\r\n"
    b"9006,@SUM(A1:A9),f@example.com,2020-01-01,France\r\n"
)
EDGE_NAMES = {9001: "Smith, Ann", 9002: "Bob\r\nJones", 9003: 'Cy "The Hammer" Lee', 9007: "Di\nLane"}
EDGE_NAMES |= {9004: '=HYPERLINK("http://x.io","x")', 9005: "+1", 9006: "@SUM(A1:A9)"}


def test_7_csv_edge_cases_and_an_object_replaced_during_a_run(harness: Harness, large: dict[str, Path]) -> None:
    with harness.case("7 CSV edge cases; an object replaced while a run reads it") as report:
        before = harness.run_ids()
        offset = len(harness.pandas.log_text())
        uploads = [*harness.base_set("c7"), harness.put("clients/c7-edge.csv", EDGE_CLIENTS)]
        lines = large[str(DatasetName.PURCHASES)].read_bytes().splitlines(keepends=True)
        first = harness.put("purchases/c7-replaced.csv", b"".join(lines[:25_001]))
        fingerprint = harness.fingerprint()
        wait_for_log(harness.pandas, f"-{fingerprint[:6]} starts on", 60, after=offset, every=0.02)
        second = harness.put("purchases/c7-replaced.csv", b"".join(lines[:1]) + b"".join(lines[25_001:40_001]))
        report.faults.append("purchases/c7-replaced.csv replaced (25,000 -> 15,000 rows) as the Pandas run started")
        uploads += [first, second]
        final = harness.fingerprint()
        harness.settle(report, final)
        harness.check_invariants(report, [u for u in uploads if u is not first], before)
        rows_by_etag = {harness.etag_of(first.body): first.rows, harness.etag_of(second.body): second.rows}
        lake = Lake(harness.store, harness.settings.lake)
        for engine in (Engine.PANDAS, Engine.SPARK):
            for manifest in harness.runs_since(engine, before[engine]):
                (pinned,) = [i.etag for i in manifest.inputs if i.key == "purchases/c7-replaced.csv"] or [None]
                if pinned is None or not manifest.succeeded:
                    continue
                bronze = read_table(
                    harness.store,
                    RunLayout(harness.settings.lake, engine, manifest.run_id).bronze(DatasetName.PURCHASES),
                    columns=["_source_key", "_source_etag"],
                ).to_pylist()
                mine = [r["_source_etag"] for r in bronze if r["_source_key"] == "purchases/c7-replaced.csv"]
                assert set(mine) == {pinned} and len(mine) == rows_by_etag[pinned], (engine, manifest.run_id)
            pointed = lake.resolve(engine)
            clean = read_table(
                harness.store,
                RunLayout(harness.settings.lake, engine, pointed.run_id).silver(DatasetName.CLIENTS),
                columns=["client_id", "name"],
            ).to_pylist()
            names = {int(r["client_id"]): r["name"] for r in clean if int(r["client_id"]) in EDGE_NAMES}
            assert names == EDGE_NAMES, (engine, names)
        report.notes.append("every run read one version of the replaced object; edge values kept as text")
