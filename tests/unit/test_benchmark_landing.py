"""The user's landing objects are never lost: kept aside, restored after success, failure, error or a signal."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any, cast

import pytest
from rich.console import Console

from jobs.benchmark import sweep as sweep_module
from jobs.benchmark.landing import (
    Interrupted,
    SignalGuard,
    backup_landing,
    landing_kept,
    restore_landing,
    signals_interrupt,
)
from jobs.benchmark.run import EXIT_INTERRUPTED, EXIT_UNVERIFIED, exit_code
from jobs.benchmark.sweep import BenchmarkConfig, Sweep, run_sweep
from twinlake.settings import Settings
from twinlake.store import LocalStore

LANDING, GOLD = "landing", "gold"
BENCH = "20261201T100000Z-abcdef"
BEFORE = {"clients.csv": b"client_id\n1\n", "purchases/2026-11-26.csv": b"x" * 100, "notes/readme.txt": b"mine"}


def landing(store: LocalStore) -> dict[str, bytes]:
    return {o.key: store.get(LANDING, o.key).body for o in store.list(LANDING)}


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "store")
    for key, body in BEFORE.items():
        store.put(LANDING, key, body)
    store.put(GOLD, "pandas/latest_run.json", b"{}")  # other gold objects are none of the benchmark's business
    return store


def say(message: str) -> None:
    pass


def test_backup_copies_every_object_and_restore_puts_landing_back(store: LocalStore) -> None:
    backup = backup_landing(store, LANDING, GOLD, BENCH)
    assert {o.key for o in backup.objects} == set(BEFORE)
    for key, body in BEFORE.items():
        assert store.get(GOLD, f"benchmarks/{BENCH}/landing-before/{key}").body == body
    store.delete_prefix(LANDING, "")
    store.put(LANDING, "clients/bench-x.csv", b"drop")
    store.put(LANDING, "clients.csv", b"replaced")
    restore_landing(store, backup)
    assert landing(store) == BEFORE
    assert store.get(GOLD, "pandas/latest_run.json").body == b"{}"


def test_an_empty_landing_stays_empty(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    backup = backup_landing(store, LANDING, GOLD, BENCH)
    store.put(LANDING, "clients/bench.csv", b"drop")
    restore_landing(store, backup)
    assert landing(store) == {}


def test_landing_is_restored_when_the_benchmark_raises(store: LocalStore) -> None:
    with (
        pytest.raises(RuntimeError, match="boom"),
        signals_interrupt(say) as guard,
        landing_kept(store, LANDING, GOLD, BENCH, guard),
    ):
        store.delete_prefix(LANDING, "")
        store.put(LANDING, "promotions/bench.csv", b"drop")
        raise RuntimeError("boom")
    assert landing(store) == BEFORE


def test_a_signal_raises_once_and_waits_for_shielded_work() -> None:
    seen: list[str] = []
    with signals_interrupt(seen.append) as guard:
        with pytest.raises(Interrupted) as stopped, guard.shield():
            os.kill(os.getpid(), signal.SIGTERM)
            seen.append("shielded work finished")
        assert stopped.value.signum == signal.SIGTERM
        assert seen[-1] == "shielded work finished"
        os.kill(os.getpid(), signal.SIGINT)  # a second signal is only reported
    assert "again" in seen[-1]
    assert signal.getsignal(signal.SIGTERM) is not guard


def fake_sweep(store: LocalStore, tmp_path: Path) -> Sweep:
    """A sweep on a folder store (no engines, no uploads: the tests replace its drops)."""
    config = BenchmarkConfig(rows=(10,), repeats=2, cache=tmp_path / "cache", local_out=None)
    settings = Settings.model_validate({"s3_access_key": "k", "s3_secret_key": "s"})
    return Sweep(config, settings, store, cast(Any, None), Console(quiet=True), BENCH)


@pytest.mark.parametrize("how", ["error", "signal"])
def test_the_sweep_restores_landing_when_a_drop_raises_or_a_signal_arrives(
    store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    def broken_drop(sweep: Sweep, rows: int, repeat: int, number: int, total: int) -> list[Any]:
        assert landing(store) == {}, "the sweep empties landing before its drops"
        store.put(LANDING, f"clients/bench-{BENCH}-{rows}-{repeat}.csv", b"half a drop")
        if how == "signal":
            os.kill(os.getpid(), signal.SIGTERM)
        raise RuntimeError("the store went away")

    monkeypatch.setattr(sweep_module, "run_drop", broken_drop)
    monkeypatch.setattr(sweep_module, "generate_all", lambda sweep: None)
    sweep = fake_sweep(store, tmp_path)
    with signals_interrupt(say) as guard:
        outcome = run_sweep(sweep, guard, lambda: None)
    assert landing(store) == BEFORE
    results = outcome.results
    assert results.landing_restored is True and results.landing_objects == len(BEFORE)
    assert not results.complete and results.rows == []
    if how == "signal":
        assert outcome.interrupted is not None and exit_code(outcome) == EXIT_INTERRUPTED
    else:
        assert outcome.failure == "RuntimeError: the store went away" and exit_code(outcome) == EXIT_UNVERIFIED
    assert any("stopped early" in p for p in results.problems)


def test_guard_is_a_signal_handler() -> None:
    guard = SignalGuard(say)
    with pytest.raises(Interrupted):
        guard(signal.SIGTERM, None)
    guard(signal.SIGTERM, None)  # the second one does not raise
