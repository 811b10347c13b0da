"""The user's landing objects are never lost: copied aside (server-side) before a benchmark replaces them, and put
back when it ends, whether it succeeded, failed, timed out or was stopped by a signal.

    gold/benchmarks/<bench_id>/landing-before/<key>   a copy of landing/<key>, for every object landing held

The copies stay there afterwards (the benchmark's record of what it replaced). While a benchmark runs, it owns the
landing bucket: restoring deletes every object the backup does not hold, so landing ends with exactly the keys and
contents it started with.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from twinlake.benchmarks import landing_backup
from twinlake.layout import Location
from twinlake.store import ObjectInfo, ObjectStore

Say = Callable[[str], None]


class Interrupted(Exception):
    """SIGTERM or SIGINT arrived: the benchmark stops, restores landing and exits."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


class LandingNotRestored(RuntimeError):
    """Landing could not be put back as it was; the copies are still in the backup folder."""


@dataclass(frozen=True)
class LandingBackup:
    """What landing held before the benchmark, and where the copies are."""

    landing_bucket: str
    objects: tuple[ObjectInfo, ...]
    folder: Location

    def copy_of(self, key: str) -> Location:
        return Location(self.folder.bucket, self.folder.key + key)


def backup_landing(store: ObjectStore, landing_bucket: str, gold_bucket: str, bench_id: str) -> LandingBackup:
    """Copy every landing object into the benchmark's `landing-before/` folder (inside the store, no download),
    then check that each copy is there with its size. Nothing in landing is touched."""
    folder = landing_backup(gold_bucket, bench_id)
    objects = tuple(store.list(landing_bucket))
    backup = LandingBackup(landing_bucket, objects, folder)
    for obj in objects:
        to = backup.copy_of(obj.key)
        store.copy(landing_bucket, obj.key, to.bucket, to.key)
    copied = {info.key.removeprefix(folder.key): info.size for info in store.list(folder.bucket, folder.key)}
    missing = [o.key for o in objects if copied.get(o.key) != o.size]
    if missing:
        raise RuntimeError(f"could not copy landing object(s) {missing} to {folder.uri()}: landing left untouched")
    return backup


def restore_landing(store: ObjectStore, backup: LandingBackup) -> None:
    """Put landing back as the backup holds it: delete every other object, copy back every kept one (an object
    still there unchanged is left alone), then check keys and sizes."""
    bucket = backup.landing_bucket
    kept = {o.key: o for o in backup.objects}
    for current in store.list(bucket):
        if current.key not in kept:
            store.delete(bucket, current.key)
    now = {o.key: o for o in store.list(bucket)}
    for key, original in kept.items():
        if key in now and now[key].etag == original.etag:
            continue
        source = backup.copy_of(key)
        store.copy(source.bucket, source.key, bucket, key)
    after = {o.key: o.size for o in store.list(bucket)}
    expected = {key: o.size for key, o in kept.items()}
    if after != expected:
        wrong = sorted(set(after.items()) ^ set(expected.items()))
        raise LandingNotRestored(
            f"s3://{bucket}/ differs from what it held before the benchmark ({wrong[:5]}); "
            f"the original objects are in {backup.folder.uri()}"
        )


class SignalGuard:
    """Turns the first SIGTERM / SIGINT into `Interrupted`. Inside `shield()` (restoring landing, writing results)
    a signal is held until the shielded work is done; a later signal only says that the benchmark is finishing."""

    def __init__(self, say: Say) -> None:
        self.say = say
        self.fired = False
        self.held: int | None = None
        self._shields = 0

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.fired or self.held is not None:
            self.say(f"{name} again: finishing (restoring landing, writing results), please wait")
        elif self._shields:
            self.held = signum
            self.say(f"{name}: stopping once landing is restored and the results are written")
        else:
            self.fired = True
            raise Interrupted(signum)

    @contextmanager
    def shield(self) -> Iterator[None]:
        self._shields += 1
        try:
            yield
        finally:
            self._shields -= 1
        if self.held is not None and not self._shields and not self.fired:
            self.fired = True
            raise Interrupted(self.held)


@contextmanager
def signals_interrupt(say: Say) -> Iterator[SignalGuard]:
    """While inside, SIGTERM and SIGINT raise `Interrupted` once (so `finally` blocks run: Kubernetes sends SIGTERM
    at a Job's deadline); the previous handlers come back afterwards."""
    guard = SignalGuard(say)
    previous = {sig: signal.signal(sig, guard) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield guard
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def landing_kept(
    store: ObjectStore, landing_bucket: str, gold_bucket: str, bench_id: str, guard: SignalGuard
) -> Iterator[LandingBackup]:
    """Back landing up, hand the backup to the benchmark, and restore landing however the benchmark ends (a signal
    that arrives while it is restored waits until landing is back)."""
    backup = backup_landing(store, landing_bucket, gold_bucket, bench_id)
    guard.say(f"landing: {len(backup.objects)} object(s) kept at {backup.folder.uri()} (restored at the end)")
    try:
        yield backup
    finally:
        with guard.shield():
            guard.say("restoring landing ...")
            restore_landing(store, backup)
            guard.say(f"landing restored: the {len(backup.objects)} object(s) it held before the benchmark are back")
