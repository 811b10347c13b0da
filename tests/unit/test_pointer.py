"""The pointer protocol on a LocalStore: create-only, If-Match, never backwards, and publishing."""

from __future__ import annotations

import tempfile
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinlake.datasets import DatasetName
from twinlake.layout import Buckets, Engine, Location, RunLayout, engine_pointer, fingerprint, global_pointer
from twinlake.manifest import DatasetCounts, InputObject, LatestRunPointer, RunManifest, write_manifest
from twinlake.pointer import (
    PointerConflict,
    PublishRefused,
    advance_pointer,
    commit_pointer,
    publish_run,
    read_pointer,
)
from twinlake.store import LocalStore, ObjectStore

GOLD = "gold"
BUCKETS = Buckets(bronze="bronze", silver="silver", gold=GOLD)
T0 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
WHERE = Location(GOLD, "pandas/latest_run.json")


def run_id(minute: int, salt: str = "") -> str:
    return f"{T0 + timedelta(minutes=minute):%Y%m%dT%H%M%SZ}-{fingerprint([(salt, str(minute))])[:6]}"


def pointer(minute: int, engine: Engine = Engine.PANDAS, generated: int | None = None) -> LatestRunPointer:
    """A pointer to the run started at T0 + minute, generated (by default) one minute after it started."""
    at = T0 + timedelta(minutes=minute + 1 if generated is None else generated)
    return LatestRunPointer.for_run(GOLD, engine, run_id(minute), at)


def manifest(minute: int, engine: Engine = Engine.PANDAS, status: str = "succeeded") -> RunManifest:
    started = T0 + timedelta(minutes=minute)
    inputs = [InputObject(key=f"clients/{minute}.csv", etag="abc123", size=10, dataset=DatasetName.CLIENTS)]
    fp = fingerprint((i.key, i.etag) for i in inputs)
    return RunManifest(
        run_id=f"{started:%Y%m%dT%H%M%SZ}-{fp[:6]}",
        engine=engine,
        versions={"python": "3.11"},
        status=status,
        error=None if status == "succeeded" else "gold: out of memory",
        inputs=inputs,
        input_fingerprint=fp,
        reference_date=date(2026, 11, 26),
        started_at=started,
        finished_at=started + timedelta(seconds=30),
        datasets={DatasetName.CLIENTS: DatasetCounts(rows_in=1, rows_clean=1, rows_rejected=0)},
        gold_row_counts={"client_summary": 1},
    )


def written(store: ObjectStore, m: RunManifest) -> RunManifest:
    write_manifest(store, RunLayout(BUCKETS, m.engine, m.run_id), m)
    return m


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "lake")


def current_run(store: ObjectStore, where: Location = WHERE) -> str | None:
    found = read_pointer(store, where)
    return None if found is None else found[0].run_id


# -- commit / read ---------------------------------------------------------------------------------------


def test_read_pointer_absent_then_present(store: LocalStore) -> None:
    assert read_pointer(store, WHERE) is None
    etag = commit_pointer(store, WHERE, pointer(1), None)
    assert read_pointer(store, WHERE) == (pointer(1), etag)


def test_commit_is_create_only_when_no_etag_is_expected(store: LocalStore) -> None:
    etag = commit_pointer(store, WHERE, pointer(1), None)
    with pytest.raises(PointerConflict, match=f"expected absent, found {etag}"):
        commit_pointer(store, WHERE, pointer(2), None)
    assert current_run(store) == run_id(1)


def test_commit_with_stale_etag_conflicts(store: LocalStore) -> None:
    first = commit_pointer(store, WHERE, pointer(1), None)
    second = commit_pointer(store, WHERE, pointer(2), first)
    with pytest.raises(PointerConflict, match=f"expected {first}, found {second}"):
        commit_pointer(store, WHERE, pointer(3), first)
    assert current_run(store) == run_id(2)
    store.delete_prefix(GOLD, WHERE.key)
    with pytest.raises(PointerConflict, match=f"expected {second}, found absent"):
        commit_pointer(store, WHERE, pointer(3), second)


# -- advance ---------------------------------------------------------------------------------------------


def test_advance_creates_then_moves_forward(store: LocalStore) -> None:
    assert advance_pointer(store, WHERE, pointer(1)) is True
    assert advance_pointer(store, WHERE, pointer(2)) is True
    assert current_run(store) == run_id(2)


def test_stale_writer_cannot_move_the_pointer_backwards(store: LocalStore) -> None:
    assert advance_pointer(store, WHERE, pointer(5)) is True  # run B, newer
    before = store.get(GOLD, WHERE.key)
    assert advance_pointer(store, WHERE, pointer(1)) is False  # run A, older
    assert store.get(GOLD, WHERE.key) == before


def test_older_run_finishing_later_does_not_win(store: LocalStore) -> None:
    """Run A started first (older inputs) but is published after run B: B stays, despite generated_at."""
    assert advance_pointer(store, WHERE, pointer(5, generated=6)) is True
    assert advance_pointer(store, WHERE, pointer(1, generated=60)) is False
    assert current_run(store) == run_id(5)


def test_runs_started_in_the_same_second_are_ordered_by_generation_time(store: LocalStore) -> None:
    first = LatestRunPointer.for_run(GOLD, Engine.PANDAS, "20261126T150000Z-aaaaaa", T0 + timedelta(minutes=2))
    second = LatestRunPointer.for_run(GOLD, Engine.PANDAS, "20261126T150000Z-000000", T0 + timedelta(minutes=3))
    assert advance_pointer(store, WHERE, first) is True
    assert advance_pointer(store, WHERE, second) is True
    assert advance_pointer(store, WHERE, first) is False
    assert current_run(store) == "20261126T150000Z-000000"


def test_advancing_to_the_same_run_again_is_a_no_op(store: LocalStore) -> None:
    assert advance_pointer(store, WHERE, pointer(1, generated=2)) is True
    etag = store.get(GOLD, WHERE.key).etag
    assert advance_pointer(store, WHERE, pointer(1, generated=9)) is False
    assert store.get(GOLD, WHERE.key).etag == etag


class InterferingStore(LocalStore):
    """Before each of its first `times` conditional writes, another writer commits `rival` to the pointer."""

    def __init__(self, root: Path, rivals: list[LatestRunPointer]) -> None:
        super().__init__(root)
        self.rivals = list(rivals)

    def _interfere(self) -> None:
        if self.rivals:
            LocalStore.put(self, GOLD, WHERE.key, self.rivals.pop(0).to_json())

    def put_if_absent(self, bucket: str, key: str, body: bytes) -> str:
        self._interfere()
        return super().put_if_absent(bucket, key, body)

    def put_if_match(self, bucket: str, key: str, body: bytes, etag: str) -> str:
        self._interfere()
        return super().put_if_match(bucket, key, body, etag)


def test_advance_retries_after_losing_to_an_older_rival(tmp_path: Path) -> None:
    store = InterferingStore(tmp_path, [pointer(1), pointer(2)])
    assert advance_pointer(store, WHERE, pointer(9)) is True
    assert current_run(store) == run_id(9)


def test_advance_gives_up_when_it_loses_to_a_newer_rival(tmp_path: Path) -> None:
    store = InterferingStore(tmp_path, [pointer(1), pointer(20)])
    assert advance_pointer(store, WHERE, pointer(9)) is False
    assert current_run(store) == run_id(20)


def test_advance_raises_after_exhausting_its_retries(tmp_path: Path) -> None:
    store = InterferingStore(tmp_path, [pointer(n) for n in range(10)])
    with pytest.raises(PointerConflict, match="expected"):
        advance_pointer(store, WHERE, pointer(50), retries=3)


def test_two_threads_advancing_end_at_the_newer_run(tmp_path: Path) -> None:
    for attempt in range(20):
        store = LocalStore(tmp_path / str(attempt))
        barrier = threading.Barrier(2)
        results: dict[int, bool] = {}

        def advance(
            minute: int, s: LocalStore = store, b: threading.Barrier = barrier, r: dict[int, bool] = results
        ) -> None:
            b.wait()
            r[minute] = advance_pointer(s, WHERE, pointer(minute))

        threads = [threading.Thread(target=advance, args=(m,)) for m in (3, 7)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert current_run(store) == run_id(7)
        assert results[7] is True


def test_many_threads_advancing_end_at_the_newest_run(store: LocalStore) -> None:
    minutes = list(range(12))
    barrier = threading.Barrier(len(minutes))
    errors: list[BaseException] = []

    def advance(minute: int) -> None:
        barrier.wait()
        try:
            advance_pointer(store, WHERE, pointer(minute), retries=len(minutes))
        except BaseException as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=advance, args=(m,)) for m in reversed(minutes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert current_run(store) == run_id(max(minutes))


@settings(max_examples=30, deadline=None)
@given(order=st.permutations(range(6)))
def test_any_order_of_advances_ends_at_the_newest(order: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp))
        newest = -1
        for minute in order:
            moved = advance_pointer(store, WHERE, pointer(minute))
            assert moved is (minute > newest)
            newest = max(newest, minute)
        assert current_run(store) == run_id(5)


# -- publish ---------------------------------------------------------------------------------------------


def test_publish_moves_the_engine_then_the_global_pointer(store: LocalStore) -> None:
    m = written(store, manifest(1))
    result = publish_run(store, GOLD, m, now=T0 + timedelta(minutes=2))
    assert (result.engine_moved, result.global_moved) == (True, True)
    for where in (engine_pointer(GOLD, Engine.PANDAS), global_pointer(GOLD)):
        found = read_pointer(store, where)
        assert found is not None and found[0] == result.pointer
    assert result.pointer.manifest == RunLayout(BUCKETS, Engine.PANDAS, m.run_id).manifest.key
    assert result.pointer.gold_prefix == f"s3://{GOLD}/pandas/{m.run_id}/"
    again = publish_run(store, GOLD, m)
    assert (again.engine_moved, again.global_moved) == (False, False)


def test_publish_refuses_a_failed_run(store: LocalStore) -> None:
    m = written(store, manifest(1, status="failed"))
    with pytest.raises(PublishRefused, match="failed"):
        publish_run(store, GOLD, m)
    assert store.list(GOLD, "pandas/latest") == [] and store.head(GOLD, "latest_run.json") is None


def test_publish_refuses_a_manifest_that_is_not_written(store: LocalStore) -> None:
    with pytest.raises(PublishRefused, match="not written"):
        publish_run(store, GOLD, manifest(1))
    assert store.list(GOLD) == []


def test_publish_refuses_a_manifest_that_differs_from_the_stored_one(store: LocalStore) -> None:
    m = written(store, manifest(1))
    other = m.model_copy(update={"gold_row_counts": {"client_summary": 2}})
    with pytest.raises(PublishRefused, match="differs"):
        publish_run(store, GOLD, other)
    assert store.head(GOLD, "latest_run.json") is None


def test_global_pointer_follows_the_newest_run_of_any_engine(store: LocalStore) -> None:
    pandas_new = written(store, manifest(10, Engine.PANDAS))
    spark_old = written(store, manifest(5, Engine.SPARK))
    spark_new = written(store, manifest(20, Engine.SPARK))
    assert publish_run(store, GOLD, pandas_new).global_moved is True
    late = publish_run(store, GOLD, spark_old)  # the spark pointer moves, the global one does not
    assert (late.engine_moved, late.global_moved) == (True, False)
    assert current_run(store, global_pointer(GOLD)) == pandas_new.run_id
    assert current_run(store, engine_pointer(GOLD, Engine.SPARK)) == spark_old.run_id
    assert publish_run(store, GOLD, spark_new).global_moved is True
    assert current_run(store, global_pointer(GOLD)) == spark_new.run_id
    assert current_run(store, engine_pointer(GOLD, Engine.PANDAS)) == pandas_new.run_id


def test_publish_after_a_crash_between_the_two_pointers_completes(store: LocalStore) -> None:
    m = written(store, manifest(1))
    p = LatestRunPointer.for_run(GOLD, m.engine, m.run_id, T0 + timedelta(minutes=2))
    advance_pointer(store, engine_pointer(GOLD, m.engine), p)  # crashed before the global pointer
    result = publish_run(store, GOLD, m)
    assert (result.engine_moved, result.global_moved) == (False, True)
    assert current_run(store, global_pointer(GOLD)) == m.run_id
