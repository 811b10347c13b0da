"""Waiting until each engine has a run of one input set: the run its pointer names, or a failed run, bounded.

What `make demo` and the benchmark wait for after an upload. A succeeded run counts once the engine's pointer names
it (the pointer moves after the manifest is written); the time the pointer moved is the pointer's `generated_at`,
so landed-to-pointer does not depend on how often the store is polled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from twinlake.catalog import Lake, RunRef
from twinlake.layout import Engine
from twinlake.manifest import RunManifest

# The pointer's own timestamp times the run, so polling needs not be fast: it only costs the engines CPU.
POLL_SECONDS = 1.0
FAILED_EVERY = 5  # polls between looks for a failed run (a listing of the engine's run folders)


@dataclass(frozen=True)
class RunSeen:
    """An engine's run of the input set, and when its pointer was moved to it (None for a failed run)."""

    manifest: RunManifest
    pointer_moved_at: datetime | None

    def landed_to_pointer(self, landed_at: datetime) -> float | None:
        """Seconds from the end of the upload to the pointer's move (None for a failed run)."""
        if self.pointer_moved_at is None:
            return None
        return max(0.0, (self.pointer_moved_at - landed_at).total_seconds())


def run_of_input_set(lake: Lake, engine: Engine, fingerprint: str, *, failed: bool = True) -> RunSeen | None:
    """The engine's run of exactly this input set once it has ended: the succeeded run its pointer names, else
    (when `failed`) the newest failed run of it; None while there is neither."""
    pointer = lake.pointer(engine)
    if pointer is not None and pointer.run_id.endswith("-" + fingerprint[:6]):
        manifest = lake.find_manifest(RunRef(engine, pointer.run_id))
        if manifest is not None and manifest.input_fingerprint == fingerprint:
            return RunSeen(manifest, pointer.generated_at)
    if not failed:
        return None
    found = [m for m in lake.runs_of_input_set(engine, fingerprint) if not m.succeeded]
    return RunSeen(found[0], None) if found else None


def wait_for_runs(
    lake: Lake,
    engines: Collection[Engine],
    fingerprint: str,
    timeout: float,
    *,
    on_poll: Callable[[set[Engine], float], None] | None = None,
    gone: Callable[[Engine], str | None] | None = None,
    on_seen: Callable[[Engine, RunSeen], None] | None = None,
) -> dict[Engine, RunSeen | str]:
    """Poll until every engine has a run of the input set, has gone (`gone` returns why), or `timeout` seconds
    have passed. Returns each engine's run, or the reason it has none."""
    start = time.monotonic()
    outcome: dict[Engine, RunSeen | str] = {}
    pending = set(engines)
    polls = 0
    while pending:
        polls += 1
        for engine in sorted(pending):
            seen = run_of_input_set(lake, engine, fingerprint, failed=polls % FAILED_EVERY == 1)
            problem = None if seen is not None or gone is None else gone(engine)
            if problem is not None:  # it may have recorded a failed run before it went
                seen = run_of_input_set(lake, engine, fingerprint)
            if seen is not None:
                outcome[engine] = seen
                pending.discard(engine)
                if on_seen is not None:
                    on_seen(engine, seen)
            elif problem is not None:
                outcome[engine] = problem
                pending.discard(engine)
        elapsed = time.monotonic() - start
        if on_poll is not None:
            on_poll(pending, elapsed)
        if pending and elapsed >= timeout:
            for engine in pending:
                last = run_of_input_set(lake, engine, fingerprint)
                outcome[engine] = last or f"no {engine} run of the input set within {timeout:.0f} s"
            break
        if pending:
            time.sleep(POLL_SECONDS)
    return outcome
