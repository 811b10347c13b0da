"""The lake as readers see it: runs, their manifests and the pointers, found only through the layout contract.

A run exists for a reader once its manifest is written (the manifest is written last): a run folder without a
manifest is a run in progress or an orphan of a killed one, and `Lake` never returns it. Manifests are immutable,
so a `Lake` caches every manifest it has read for as long as it lives; pointers are read fresh on every call.

Every reader of the lake (the `twinlake` command line, the dashboard, the benchmark, retention) goes through here
and through `twinlake.tables`; none of them builds a key by hand.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from twinlake.layout import Buckets, Engine, Location, RunLayout, engine_pointer, global_pointer
from twinlake.manifest import RUN_ID_PATTERN, LatestRunPointer, RunManifest, manifest_location
from twinlake.pointer import read_pointer
from twinlake.store import NotFound, ObjectStore

_RUN_ID = re.compile(RUN_ID_PATTERN)


class RunNotFound(LookupError):
    """No manifest for this run: it does not exist, is still in progress, or was killed before it ended."""


@dataclass(frozen=True)
class RunRef:
    """One run of one engine."""

    engine: Engine
    run_id: str

    def __str__(self) -> str:
        return f"{self.engine}/{self.run_id}"


def newest_first(manifests: Iterable[RunManifest]) -> list[RunManifest]:
    """Runs ordered as a history reads: latest start first (run ids break ties)."""
    return sorted(manifests, key=lambda m: (m.started_at, m.run_id, m.engine), reverse=True)


@dataclass
class Lake:
    """Read-only access to runs, manifests and pointers of one lake (a store and its bucket names)."""

    store: ObjectStore
    buckets: Buckets
    _manifests: dict[RunRef, RunManifest] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    # -- pointers --

    def pointer_location(self, engine: Engine | None = None) -> Location:
        """`gold/<engine>/latest_run.json`, or the global `gold/latest_run.json` for None."""
        gold = self.buckets.gold
        return global_pointer(gold) if engine is None else engine_pointer(gold, engine)

    def pointer(self, engine: Engine | None = None) -> LatestRunPointer | None:
        """The run a pointer names (None before the first succeeded run)."""
        found = read_pointer(self.store, self.pointer_location(engine))
        return None if found is None else found[0]

    def pointed_runs(self) -> dict[Engine | None, RunRef | None]:
        """Which run each pointer names: every engine's, and the global one under the key None."""
        named: dict[Engine | None, RunRef | None] = {}
        for engine in (*Engine, None):
            pointer = self.pointer(engine)
            named[engine] = None if pointer is None else RunRef(pointer.engine, pointer.run_id)
        return named

    # -- runs --

    def layout(self, run: RunRef) -> RunLayout:
        return RunLayout(self.buckets, run.engine, run.run_id)

    def run_folders(self, engine: Engine) -> list[str]:
        """Run ids that have a folder in gold, with or without a manifest (retention uses this for orphans)."""
        prefix = f"{engine}/"
        names = (folder[len(prefix) :].rstrip("/") for folder in self.store.list_folders(self.buckets.gold, prefix))
        return [name for name in names if _RUN_ID.match(name)]

    def run_folders_by_layer(self, engine: Engine) -> dict[str, list[Location]]:
        """Every run id of an engine with a folder in any layer, and its folders (bronze, silver, gold) that exist.

        A run writes Bronze first and its manifest last, so a run killed mid-way may have a Bronze or Silver
        folder and no Gold one: retention needs all three layers to find what an orphan left.
        """
        prefix = f"{engine}/"
        found: dict[str, list[Location]] = {}
        for bucket in (self.buckets.bronze, self.buckets.silver, self.buckets.gold):
            for folder in self.store.list_folders(bucket, prefix):
                run_id = folder[len(prefix) :].rstrip("/")
                if _RUN_ID.match(run_id):
                    found.setdefault(run_id, []).append(Location(bucket, folder))
        return found

    def folder_size(self, folder: Location) -> tuple[int, int]:
        """Objects and bytes under a folder."""
        objects = self.store.list(folder.bucket, folder.key)
        return len(objects), sum(o.size for o in objects)

    def manifest(self, run: RunRef) -> RunManifest:
        """The run's manifest; raises `RunNotFound` when it has none."""
        with self._lock:
            cached = self._manifests.get(run)
        if cached is not None:
            return cached
        where = manifest_location(self.buckets.gold, run.engine, run.run_id)
        try:
            manifest = RunManifest.from_json(self.store.get(where.bucket, where.key).body)
        except NotFound as exc:
            raise RunNotFound(f"no manifest for {run} at {where.uri()}") from exc
        with self._lock:
            self._manifests[run] = manifest
        return manifest

    def find_manifest(self, run: RunRef) -> RunManifest | None:
        try:
            return self.manifest(run)
        except RunNotFound:
            return None

    def runs(self, engine: Engine | None = None) -> list[RunManifest]:
        """Every recorded run (succeeded or failed) of one engine, or of both for None, newest first."""
        engines = list(Engine) if engine is None else [engine]
        found = (self.find_manifest(RunRef(e, run_id)) for e in engines for run_id in self.run_folders(e))
        return newest_first(m for m in found if m is not None)

    def succeeded_runs(self, engine: Engine) -> list[RunManifest]:
        return [m for m in self.runs(engine) if m.succeeded]

    def runs_of_input_set(self, engine: Engine, input_fingerprint: str) -> list[RunManifest]:
        """Every recorded run of an engine over exactly this input set, newest first.

        Cheap: a run id ends with the first six digits of its input fingerprint, so only those folders are read.
        """
        suffix = "-" + input_fingerprint[:6]
        candidates = (RunRef(engine, r) for r in self.run_folders(engine) if r.endswith(suffix))
        found = (self.find_manifest(run) for run in candidates)
        return newest_first(m for m in found if m is not None and m.input_fingerprint == input_fingerprint)

    def previous_run(self, manifest: RunManifest, *, succeeded: bool = True) -> RunManifest | None:
        """The engine's run recorded just before this one (by start time), succeeded only by default."""
        history = self.succeeded_runs(manifest.engine) if succeeded else self.runs(manifest.engine)
        older = [m for m in history if (m.started_at, m.run_id) < (manifest.started_at, manifest.run_id)]
        return older[0] if older else None

    def resolve(self, engine: Engine | None = None, run_id: str | None = None) -> RunManifest:
        """The run a user means: `run_id` of `engine` (or of whichever engine has it), else the run the engine's
        pointer (or the global pointer) names. Raises `RunNotFound` with what was looked for."""
        if run_id is not None:
            engines = list(Engine) if engine is None else [engine]
            for candidate in engines:
                found = self.find_manifest(RunRef(candidate, run_id))
                if found is not None:
                    return found
            where = "any engine" if engine is None else f"engine {engine}"
            raise RunNotFound(f"no run {run_id} of {where} in s3://{self.buckets.gold}/")
        pointer = self.pointer(engine)
        if pointer is None:
            which = "no engine has a" if engine is None else f"the {engine} engine has no"
            raise RunNotFound(f"{which} succeeded run yet: {self.pointer_location(engine).uri()} does not exist")
        return self.manifest(RunRef(pointer.engine, pointer.run_id))
