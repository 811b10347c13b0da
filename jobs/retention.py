"""Retention of the lake: `python -m jobs.retention [--keep N] [--apply]` (`make gc`), a dry run by default.

What it deletes, per engine, in all three layers (bronze, silver, gold):

- orphan run folders: run ids with folders but no manifest, started longer ago than the longest run may take
  (`--orphan-age`, default `TWINLAKE_MAX_RUN_SECONDS`): runs killed mid-way. A run still in progress is younger
  than that, so it is never taken for an orphan (Iceberg's `remove_orphan_files` guards in-flight writes with an
  age threshold the same way);
- recorded runs (succeeded or failed) beyond the newest `--keep` (default 20) of the engine, newest by start time
  (Iceberg's `expire_snapshots` with `retain_last`).

Never a run a pointer names (the engine's or the global `latest_run.json`) nor one a benchmark result names
(`protected_runs`): as Delta's VACUUM never removes what the current table version needs. Protection is read
again right before deleting, so a pointer that moved meanwhile still protects its run.

A run is deleted manifest first: from then on no reader lists it (`twinlake.catalog.Lake` lists runs by their
manifests), and if retention stops half-way, what remains is an orphan the next pass removes.

Exit codes: 0 done (or nothing to do); 1 a deletion failed; 2 the store could not be reached.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from twinlake.benchmarks import BENCHMARKS_FOLDER, RESULTS_JSON, BenchmarkResults, benchmark_file
from twinlake.catalog import Lake, RunRef
from twinlake.cli.command import ExitCode, UserError, exit_process, new_app, run
from twinlake.layout import Engine, Location
from twinlake.manifest import manifest_location, run_started_at
from twinlake.s3 import s3_client
from twinlake.settings import Settings, StoreRole
from twinlake.store import NotFound, S3Store, StoreError

log = logging.getLogger(__name__)
DEFAULT_KEEP = 20


class RetentionRefused(RuntimeError):
    """Retention cannot tell which runs must be kept, so it deletes nothing."""


@dataclass(frozen=True)
class Expired:
    """A run retention deletes: why, and what it holds."""

    run: RunRef
    status: str  # orphan | succeeded | failed
    reason: str
    folders: tuple[Location, ...]
    objects: int
    bytes: int


def protected_runs(lake: Lake) -> set[RunRef]:
    """Runs retention never deletes: those the pointers name and those a benchmark result names."""
    named = {run for run in lake.pointed_runs().values() if run is not None}
    return named | benchmark_runs(lake)


def benchmark_runs(lake: Lake) -> set[RunRef]:
    """Every run a benchmark result names (`gold/benchmarks/<bench_id>/results.json`, `twinlake.benchmarks`).

    A results file that cannot be read stops retention: it could name any run.
    """
    found: set[RunRef] = set()
    for folder in lake.store.list_folders(lake.buckets.gold, f"{BENCHMARKS_FOLDER}/"):
        bench_id = folder.removeprefix(f"{BENCHMARKS_FOLDER}/").rstrip("/")
        where = benchmark_file(lake.buckets.gold, bench_id, RESULTS_JSON)
        try:
            results = BenchmarkResults.from_json(lake.store.get(where.bucket, where.key).body)
        except NotFound:
            continue  # a benchmark still running, or one that wrote no result: it names no run yet
        except ValueError as exc:
            raise RetentionRefused(f"{where.uri()} cannot be read ({exc}): it may name any run") from exc
        found.update(
            RunRef(Engine(row.engine), row.run_id) for row in results.rows if row.run_id and row.engine != "duckdb"
        )
    return found


def plan(lake: Lake, *, keep: int, orphan_age: timedelta, now: datetime, protected: set[RunRef]) -> list[Expired]:
    """What retention would delete, engine by engine (nothing is deleted here)."""
    expired: list[Expired] = []
    for engine in Engine:
        folders = lake.run_folders_by_layer(engine)
        recorded = {m.run_id: m for m in lake.runs(engine)}
        newest = sorted(recorded.values(), key=lambda m: (m.started_at, m.run_id), reverse=True)
        for manifest in newest[keep:]:
            run = RunRef(engine, manifest.run_id)
            if run not in protected:
                reason = f"beyond the newest {keep} runs of {engine}"
                expired.append(_expired(lake, run, manifest.status, reason, folders.get(manifest.run_id, [])))
        for run_id, where in sorted(folders.items()):
            run = RunRef(engine, run_id)
            if run_id in recorded or run in protected:
                continue
            age = now - run_started_at(run_id)
            if age > orphan_age:
                reason = f"no manifest, started {_duration(age)} ago"
                expired.append(_expired(lake, run, "orphan", reason, where))
    return expired


def _expired(lake: Lake, run: RunRef, status: str, reason: str, folders: Iterable[Location]) -> Expired:
    where = tuple(folders)
    sizes = [lake.folder_size(folder) for folder in where]
    return Expired(run, status, reason, where, sum(n for n, _ in sizes), sum(b for _, b in sizes))


def delete(lake: Lake, run: Expired) -> None:
    """The manifest first (the run disappears for readers), then its folders in every layer."""
    manifest = manifest_location(lake.buckets.gold, run.run.engine, run.run.run_id)
    lake.store.delete(manifest.bucket, manifest.key)
    for folder in run.folders:
        lake.store.delete_prefix(folder.bucket, folder.key)


def _duration(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n / 1e3:,.1f} kB"


def report(expired: list[Expired], applied: bool) -> str:
    lines = [
        f"  {e.run.engine:<7} {e.run.run_id}  {e.status:<9}  {e.reason:<44} {e.objects:>6} objects {_size(e.bytes):>10}"
        for e in expired
    ]
    total = f"{len(expired)} runs, {sum(e.objects for e in expired)} objects, {_size(sum(e.bytes for e in expired))}"
    lines.append(("deleted " if applied else "would delete ") + total)
    return "\n".join(lines)


app = new_app()


@app.command("retention")
def retention(
    keep: Annotated[int, typer.Option("--keep", min=1, help="Recorded runs kept per engine, newest first.")] = (
        DEFAULT_KEEP
    ),
    orphan_age: Annotated[
        float | None,
        typer.Option(
            "--orphan-age",
            show_default=False,
            help="Seconds after its start a run without a manifest is an orphan; default TWINLAKE_MAX_RUN_SECONDS "
            "(1800).",
        ),
    ] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Delete; without it, a dry run that deletes nothing.")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="Logging level.")] = "WARNING",
) -> None:
    """Delete orphan run folders and runs beyond --keep per engine, in every layer (a dry run by default).

    An orphan is a run folder without a manifest (a run killed mid-way) older than --orphan-age. A run a pointer
    names (an engine's or the lake's latest_run.json) or a benchmark result names is never deleted. A run is
    deleted manifest first, so a reader never sees half a run. Uses the engines' store keys. Exit codes: 0 done
    (or nothing to do); 1 some runs could not be deleted; 2 the lake could not be read.
    """
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.load(role=StoreRole.ENGINES)
    age = timedelta(seconds=orphan_age if orphan_age is not None else settings.max_run_seconds)
    lake = Lake(S3Store(s3_client(settings)), settings.lake)
    try:
        protected = protected_runs(lake)
    except RetentionRefused as exc:
        raise UserError(str(exc), "fix or remove that results file, then run retention again") from exc
    expired = plan(lake, keep=keep, orphan_age=age, now=datetime.now(UTC), protected=protected)
    mode = "deleting" if apply else "dry run, nothing deleted (--apply deletes)"
    print(
        f"retention of s3://{settings.bronze_bucket}, s3://{settings.silver_bucket}, s3://{settings.gold_bucket}: "
        f"keep the newest {keep} runs per engine, orphans older than {_duration(age)}; {mode}"
    )
    print(f"  protected: {', '.join(sorted(map(str, protected))) or 'nothing'} (pointers and benchmark results)")
    if not apply:
        print(report(expired, applied=False))
        return
    failed = 0
    protected = protected_runs(lake)  # again: a pointer may have moved since the plan
    done: list[Expired] = []
    for candidate in expired:
        if candidate.run in protected:
            print(f"  {candidate.run} kept: a pointer or benchmark result names it now")
            continue
        try:
            delete(lake, candidate)
            done.append(candidate)
        except StoreError as exc:
            failed += 1
            print(f"  {candidate.run} could not be deleted: {exc}", file=sys.stderr)
    print(report(done, applied=True))
    if failed:
        raise typer.Exit(ExitCode.NO)


def main(argv: list[str] | None = None) -> int:
    return run(app, argv, prog_name="python -m jobs.retention")


if __name__ == "__main__":
    exit_process(main())
