"""The fault suite's harness: the local stack, both engines as real processes, a reader that polls the pointers,
the faults themselves (`kill -9` of an engine, the broker or the store; their restart), and the invariants every
case ends with.

Invariants (`Harness.check_invariants`), for the input set landing holds at the end of a case:
- every landed object is covered by a succeeded run of each engine (each pointer names a run of that input set);
- exactly one succeeded run of that input set per engine, and no input set of the case has two;
- both pointers (and the global one) name complete runs: manifest present, every Gold table readable with the
  manifest's row count;
- per dataset, bronze rows = clean + rejected, counted in the stored tables, and bronze rows = the rows uploaded
  (no row lost).
The reader (`PointerReader`) checks the third point every half second while the faults happen.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError
from kafka import KafkaProducer

from jobs.runs import classify_failure
from tests.processes import REPO, EngineProcess, engine_env, wait_for_log, wait_until
from tests.stack_probe import load_role
from twinlake.catalog import Lake, RunRef
from twinlake.datasets import DATASETS, DatasetName
from twinlake.gold import GOLD_TABLES
from twinlake.inputs import input_fingerprint, list_landing, read_csv_table
from twinlake.layout import Engine, RunLayout, dataset_for_key
from twinlake.manifest import FailureKind, RunManifest
from twinlake.s3 import s3_client
from twinlake.settings import Settings, StoreRole, state_dir
from twinlake.store import S3Store
from twinlake.tables import count_rows

log = logging.getLogger(__name__)
AS_OF = date(2026, 11, 26)
TRIGGER = "5 seconds"  # the engine's default
RECONCILE_SECONDS = "5"
STARTUP_TIMEOUT = 180.0  # a Spark session on a loaded 2-core machine
ENGINES = (Engine.PANDAS, Engine.SPARK)


@dataclass
class CaseReport:
    """What one case did and measured (printed at the end of the session)."""

    name: str
    seconds: float = 0.0
    faults: list[str] = field(default_factory=list)
    uploads: int = 0
    rows_uploaded: int = 0
    rows_lost: dict[str, int] = field(default_factory=dict)
    runs: dict[str, dict[str, int]] = field(default_factory=dict)  # engine -> status -> count
    reader_checks: int = 0
    notes: list[str] = field(default_factory=list)


class PointerReader(threading.Thread):
    """A reader of the lake: every `every` seconds, reads each pointer and checks the run it names is complete."""

    def __init__(self, settings: Settings, every: float = 0.5) -> None:
        super().__init__(name="pointer-reader", daemon=True)
        self.lake = Lake(S3Store(s3_client(settings)), settings.lake)
        self.every = every
        self.stopping = threading.Event()
        self.checked: set[RunRef] = set()
        self.reads = 0
        self.unavailable = 0
        self.violations: list[str] = []

    def run(self) -> None:
        while not self.stopping.wait(self.every):
            for engine in (*ENGINES, None):
                try:
                    self._check(engine)
                except (BotoCoreError, ConnectionError) as exc:  # the store is down: nothing to read, nothing seen
                    self.unavailable += 1
                    log.debug("reader: store unavailable: %s", exc)
                except Exception as exc:
                    if classify_failure(exc) is FailureKind.INFRASTRUCTURE:
                        self.unavailable += 1
                    else:
                        self.violations.append(f"{engine or 'global'} pointer: {type(exc).__name__}: {exc}")

    def _check(self, engine: Engine | None) -> None:
        pointer = self.lake.pointer(engine)
        self.reads += 1
        if pointer is None:
            return
        run = RunRef(pointer.engine, pointer.run_id)
        if run in self.checked:
            return
        manifest = self.lake.manifest(run)  # RunNotFound: the pointer names a run without a manifest
        problems = complete_run_problems(self.lake, manifest)
        if problems:
            self.violations.append(f"{engine or 'global'} pointer names {run}: {'; '.join(problems)}")
        self.checked.add(run)


def complete_run_problems(lake: Lake, manifest: RunManifest) -> list[str]:
    """What makes a pointed run incomplete: not succeeded, or a Gold table missing or of another row count."""
    if not manifest.succeeded:
        return [f"status {manifest.status}"]
    layout = lake.layout(RunRef(manifest.engine, manifest.run_id))
    problems = []
    for table in GOLD_TABLES:
        expected = manifest.gold_row_counts.get(table.name)
        try:
            got = count_rows(lake.store, layout.gold(table.name))
        except FileNotFoundError as exc:
            problems.append(f"{table.name}: {exc}")
            continue
        if got != expected:
            problems.append(f"{table.name}: {got} rows stored, manifest says {expected}")
    return problems


@dataclass
class Upload:
    key: str
    body: bytes
    rows: int


class Harness:
    """Everything a case needs; one per session (the engines keep running from case to case)."""

    def __init__(self, settings: Settings, tmp: Path, generated: dict[str, Path], case_seconds: float) -> None:
        self.settings = settings
        self.case_seconds = case_seconds
        self.case_started = time.monotonic()
        self.tmp = tmp
        self.generated = generated
        self.store = S3Store(s3_client(settings))  # the engines' keys: read the lake
        self.uploader = S3Store(s3_client(load_role(StoreRole.UPLOADER)))  # lands and clears the files
        self.lake = Lake(self.store, settings.lake)
        self.checkpoint = tmp / "spark-checkpoint"
        env = engine_env(AS_OF, TWINLAKE_RECONCILE_SECONDS=RECONCILE_SECONDS, TWINLAKE_BATCH_WINDOW_SECONDS="2")
        self.pandas = EngineProcess("pandas", ["jobs.pandas_engine"], env, tmp / "pandas.log")
        spark_args = ["jobs.spark_engine", "--trigger", TRIGGER, "--reconcile-seconds", RECONCILE_SECONDS]
        spark_args += ["--checkpoint", self.checkpoint.as_uri()]
        self.spark = EngineProcess("spark", spark_args, env, tmp / "spark.log")
        self.reader = PointerReader(settings)
        self.reports: list[CaseReport] = []

    # -- engines --

    def start(self) -> None:
        self.clear_landing()
        self.reader.start()
        self.start_engine(self.pandas)
        self.start_engine(self.spark)

    def start_engine(self, proc: EngineProcess) -> None:
        offset = len(proc.log_text())
        proc.start()
        ready = "started: trigger" if proc is self.spark else "consuming"
        wait_for_log(proc, ready, STARTUP_TIMEOUT, after=offset, every=0.5)

    def stop(self) -> None:
        self.reader.stopping.set()
        for proc in (self.pandas, self.spark):
            if proc.running():
                proc.stop()

    def engines_alive(self) -> None:
        for proc in (self.pandas, self.spark):
            assert proc.running(), f"{proc.name} exited; log:\n{proc.log_tail()}"

    # -- the stack --

    def pid(self, component: str) -> int:
        return int((state_dir() / "run" / f"{component}.pid").read_text().strip())

    def kill_component(self, component: str) -> None:
        """`kill -9` of the broker (`kafka`) or the store (`versitygw`) by its PID file."""
        pid = self.pid(component)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)  # a zombie until its parent reaps it: gone as far as its port is concerned

    def restart_stack(self) -> float:
        """`twinlake stack up`: starts what is not running (as `make stack-up` does); returns its seconds."""
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "twinlake.cli", "stack", "up"], cwd=REPO, capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return time.monotonic() - started

    # -- landing --

    def clear_landing(self) -> None:
        for _ in range(3):  # the store may have been restarted a moment ago
            with contextlib.suppress(Exception):
                self.uploader.delete_prefix(self.settings.landing_bucket, "")
                return
            time.sleep(1)

    def put(self, key: str, body: bytes) -> Upload:
        self.uploader.put(self.settings.landing_bucket, key, body)
        return Upload(key, body, rows_of(key, body))

    def base_set(self, case: str, files: dict[str, Path] | None = None, rows: int | None = None) -> list[Upload]:
        """Generated files (the first `rows` rows; the small set unless `files`) under keys of the case's own."""
        uploads = []
        tag = uuid.uuid4().hex[:6]
        for name in DatasetName:
            body = (files or self.generated)[str(name)].read_bytes()
            if rows is not None:
                body = b"".join(body.splitlines(keepends=True)[: rows + 1])
            uploads.append(self.put(f"{name}/{case}-{tag}.csv", body))
        return uploads

    @staticmethod
    def etag_of(body: bytes) -> str:
        """The store's ETag of a single-part upload: the MD5 of the body."""
        return hashlib.md5(body).hexdigest()

    def fingerprint(self) -> str:
        return input_fingerprint(list_landing(self.store, self.settings.landing_bucket))

    # -- waiting --

    def pointed_fingerprint(self, engine: Engine) -> str | None:
        try:
            pointer = self.lake.pointer(engine)
            return None if pointer is None else self.lake.manifest(RunRef(engine, pointer.run_id)).input_fingerprint
        except Exception:  # the store restarting
            return None

    def wait_for_runs(self, fingerprint: str, timeout: float, *, engines: tuple[Engine, ...] = ENGINES) -> float:
        procs = [p for p in (self.pandas, self.spark) if p.running()]
        return wait_until(
            f"both engines' pointers on input set {fingerprint[:6]}",
            lambda: all(self.pointed_fingerprint(e) == fingerprint for e in engines),
            timeout,
            *procs,
            every=0.5,
        )

    def deadline(self, margin: float = 10.0) -> float:
        """Seconds left in the current case's bound, less a margin for the checks that follow."""
        return max(self.case_seconds - (time.monotonic() - self.case_started) - margin, 1.0)

    def settle(self, report: CaseReport, fingerprint: str) -> None:
        """Wait (within the case's bound) until both engines' pointers name runs of this input set."""
        waited = self.wait_for_runs(fingerprint, self.deadline())
        report.notes.append(f"both pointers on the input set {waited:.0f} s later")

    # -- invariants --

    def runs_since(self, engine: Engine, since: set[str]) -> list[RunManifest]:
        return [m for m in Lake(self.store, self.settings.lake).runs(engine) if m.run_id not in since]

    def run_ids(self) -> dict[Engine, set[str]]:
        return {e: set(self.lake.run_folders(e)) for e in ENGINES}

    def check_invariants(self, report: CaseReport, uploads: list[Upload], before: dict[Engine, set[str]]) -> None:
        inputs = list_landing(self.store, self.settings.landing_bucket)
        fingerprint = input_fingerprint(inputs)
        landed = {i.key for i in inputs}
        expected_rows = {name: 0 for name in DatasetName}
        for upload in uploads:
            if upload.key in landed:
                expected_rows[dataset_of(upload.key)] += upload.rows
        lake = Lake(self.store, self.settings.lake)
        for engine in ENGINES:
            new_runs = self.runs_since(engine, before[engine])
            statuses: dict[str, int] = {}
            for m in new_runs:
                statuses[m.status] = statuses.get(m.status, 0) + 1
            report.runs[str(engine)] = statuses
            per_input_set: dict[str, int] = {}
            for m in new_runs:
                if m.succeeded:
                    per_input_set[m.input_fingerprint] = per_input_set.get(m.input_fingerprint, 0) + 1
            twice = {fp[:6]: n for fp, n in per_input_set.items() if n > 1}
            assert not twice, f"{engine}: input sets with more than one succeeded run: {twice}"
            final = [m for m in lake.runs_of_input_set(engine, fingerprint) if m.succeeded]
            assert len(final) == 1, f"{engine}: {len(final)} succeeded runs of the final input set"
            (manifest,) = final
            pointer = lake.pointer(engine)
            assert pointer is not None and pointer.run_id == manifest.run_id, f"{engine} pointer: {pointer}"
            assert {i.key for i in manifest.inputs} == landed, f"{engine}: the run does not cover every object"
            assert not complete_run_problems(lake, manifest), complete_run_problems(lake, manifest)
            layout = RunLayout(self.settings.lake, engine, manifest.run_id)
            lost = 0
            for name in DatasetName:
                bronze = count_rows(self.store, layout.bronze(name))
                clean = count_rows(self.store, layout.silver(name))
                rejected = count_rows(self.store, layout.silver_rejected(name))
                counts = manifest.datasets[name]
                assert bronze == clean + rejected, f"{engine} {name}: bronze {bronze} != {clean} + {rejected}"
                assert (bronze, clean, rejected) == (counts.rows_in, counts.rows_clean, counts.rows_rejected)
                lost += expected_rows[name] - bronze
            report.rows_lost[str(engine)] = lost
            assert lost == 0, f"{engine}: {lost} rows uploaded are not in Bronze"
        latest = lake.pointer(None)
        assert latest is not None
        assert not complete_run_problems(lake, lake.manifest(RunRef(latest.engine, latest.run_id)))
        report.rows_uploaded = sum(u.rows for u in uploads if u.key in landed)
        report.uploads = len(uploads)

    @contextlib.contextmanager
    def case(self, name: str) -> Iterator[CaseReport]:
        """Run a case: fresh landing, then the case, then the reader's verdict; the report is kept."""
        report = CaseReport(name)
        for proc in (self.pandas, self.spark):  # an engine an earlier case left dead: restart it, as a supervisor would
            if not proc.running():
                report.notes.append(f"{proc.name} was not running at the start: restarted")
                self.start_engine(proc)
        self.clear_landing()
        violations, checks = len(self.reader.violations), self.reader.reads
        started = self.case_started = time.monotonic()
        try:
            yield report
        finally:
            report.seconds = round(time.monotonic() - started, 1)
            report.reader_checks = self.reader.reads - checks
            self.reports.append(report)
        seen = self.reader.violations[violations:]
        assert not seen, f"the reader saw partial runs: {seen}"

    def produce(self, values: list[bytes]) -> list[tuple[int, int]]:
        """Write raw messages to the events topic; returns their (partition, offset)."""
        producer = KafkaProducer(bootstrap_servers=self.settings.kafka_bootstrap, acks="all", max_request_size=2 << 20)
        try:
            return [
                (meta.partition, meta.offset)
                for meta in (producer.send(self.settings.events_topic, value=v).get(timeout=20) for v in values)
            ]
        finally:
            producer.close(timeout=5)


def dataset_of(key: str) -> DatasetName:
    dataset = dataset_for_key(key)
    assert dataset is not None, key
    return dataset


def rows_of(key: str, body: bytes) -> int:
    """Data rows of a landing object by the parser of record (0 for one no engine can read)."""
    dataset = dataset_of(key)
    try:
        return read_csv_table(key, DATASETS[dataset], body).num_rows
    except ValueError:
        return 0


def write_report(reports: list[CaseReport], path: Path) -> None:
    path.write_text(json.dumps([r.__dict__ for r in reports], indent=2), encoding="utf-8")


def poll(check: Callable[[], Any], timeout: float, every: float = 0.05) -> Any:
    """Poll until `check` returns something truthy; returns it (or raises after `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"not within {timeout:.0f} s")
