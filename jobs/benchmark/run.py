"""One benchmark from start to finish: settings and store in, the sweep, the outputs and the pointer out.

The function behind `python -m jobs.benchmark` (and `make bench`, and the benchmark Job on Kubernetes), kept apart
from the command line so that other front ends can call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console

from jobs.benchmark.landing import Interrupted, signals_interrupt
from jobs.benchmark.report import Written, print_results, write_outputs
from jobs.benchmark.sweep import BenchmarkConfig, SetupError, Sweep, SweepResult, new_bench_id, run_sweep
from twinlake.benchmarks import (
    RESULTS_JSON,
    BenchmarkPointer,
    BenchmarkResults,
    benchmark_file,
    landing_backup,
    publish_benchmark,
)
from twinlake.s3 import s3_client
from twinlake.settings import Settings
from twinlake.store import S3Store

EXIT_OK = 0  # every drop ran, every lane succeeded and was verified, landing restored
EXIT_UNVERIFIED = 1  # a lane failed or timed out, the lanes disagreed, or an error stopped the sweep
EXIT_SETUP = 2  # nothing was measured: the store did not answer, or the engines did not start
EXIT_LANDING = 3  # landing could not be restored (the original objects are in the backup folder)
EXIT_INTERRUPTED = 130  # SIGTERM / SIGINT (landing restored; the results so far written, the pointer not moved)


@dataclass(frozen=True)
class BenchmarkOutcome:
    results: BenchmarkResults | None
    written: Written | None
    pointer_moved: bool
    exit_code: int


def exit_code(outcome: SweepResult, late: Interrupted | None = None) -> int:
    results = outcome.results
    if outcome.landing_error:
        return EXIT_LANDING
    if outcome.interrupted or late:
        return EXIT_INTERRUPTED
    if outcome.failure or not results.complete or not results.verified:
        return EXIT_UNVERIFIED
    return EXIT_OK


def run_benchmark(config: BenchmarkConfig, settings: Settings, console: Console) -> BenchmarkOutcome:
    client = s3_client(settings)
    store = S3Store(client)
    sweep = Sweep(config, settings, store, client, console, config.bench_id or new_bench_id())
    gold = settings.gold_bucket
    sweep.say(
        f"[bold]twinlake benchmark {sweep.bench_id}[/bold]: rows per file {', '.join(f'{n:,}' for n in config.rows)} "
        f"x {config.repeats} repeat(s), store {settings.s3_endpoint}, "
        + ("engines started here if not running" if config.start_engines else "deployed engines")
    )

    def check_store() -> None:
        try:
            store.list(settings.landing_bucket)
            store.list(gold, "benchmarks/")
        except (BotoCoreError, ClientError) as exc:
            raise SetupError(
                f"cannot reach the store at {settings.s3_endpoint} ({exc}): start it (`make stack-up`) or check "
                "the TWINLAKE_S3_* settings"
            ) from exc

    late: Interrupted | None = None
    written: Written | None = None
    moved = False
    with signals_interrupt(sweep.say) as guard:
        try:
            outcome = run_sweep(sweep, guard, check_store)
        except SetupError as exc:
            console.print(f"[red]{exc}[/red]")
            return BenchmarkOutcome(None, None, False, EXIT_SETUP)
        results = outcome.results
        failed_write: str | None = None
        try:
            with guard.shield():
                written, moved = publish(store, gold, results, config.local_out)
        except Interrupted as exc:
            late = exc
        except (BotoCoreError, ClientError) as exc:
            failed_write = f"could not write the results to {benchmark_file(gold, results.bench_id, '').uri()} ({exc})"
    print_results(console, results)
    say_where(sweep, results, written, moved)
    code = exit_code(outcome, late)
    if failed_write:
        console.print(f"[red]{failed_write}: check the benchmark role's rights on gold/benchmarks/[/red]")
        code = max(code, EXIT_UNVERIFIED)
    return BenchmarkOutcome(results, written, moved, code)


def publish(
    store: S3Store, gold: str, results: BenchmarkResults, local_out: Path | None
) -> tuple[Written | None, bool]:
    """Write the results (when any drop ran), then move `latest.json` to them (when every drop ran)."""
    if not results.rows:
        return None, False
    written = write_outputs(store, gold, results, local_out)
    if not results.complete:
        return written, False
    pointer = BenchmarkPointer(
        bench_id=results.bench_id,
        generated_at=results.finished_at,
        results=benchmark_file(gold, results.bench_id, RESULTS_JSON).key,
    )
    return written, publish_benchmark(store, gold, pointer)


def say_where(sweep: Sweep, results: BenchmarkResults, written: Written | None, moved: bool) -> None:
    gold = sweep.settings.gold_bucket
    if written is not None:
        sweep.say(f"results: {written.lake_folder} ({', '.join(written.names)})")
        if written.local_csv is not None:
            sweep.say(f"         {written.local_csv} and {written.local_folder}/ (plots, report.md, results.json)")
    latest = f"s3://{gold}/benchmarks/latest.json"
    if moved:
        sweep.say(f"{latest} now names {results.bench_id}")
    elif not results.complete:
        sweep.say(f"{latest} not moved: the benchmark did not run every drop")
    elif written is None:
        sweep.say(f"{latest} not moved: the results were not written")
    else:
        sweep.say(f"{latest} names a newer benchmark: left as it is")
    if results.landing_objects is None:
        sweep.say("landing: not touched")
    elif results.landing_restored:
        sweep.say(
            f"landing: restored, the {results.landing_objects} object(s) it held before are back "
            f"(copies kept at {landing_backup(gold, results.bench_id).uri()})"
        )
    else:
        sweep.say(
            f"[red]landing: NOT restored[/red]; the objects it held before are at "
            f"{landing_backup(gold, results.bench_id).uri()}"
        )
    if results.verified and results.complete:
        sweep.say("[green]verified[/green]: every lane of every drop agreed")
    else:
        sweep.say(f"[red]not verified[/red]: {len(results.problems)} problem(s)")
        for problem in results.problems[:20]:
            sweep.say(f"  - {problem}")
