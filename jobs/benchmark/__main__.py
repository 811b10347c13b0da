"""`python -m jobs.benchmark`: time both deployed engines end to end on the same drops, verify them, write results.

For each scale (`--rows`, rows per file) and repeat: the generator's three files (seeded, cached), uploaded into
landing; wait until each engine's pointer names a run of exactly that input set; the DuckDB reference on the same
files; verification (identical Gold tables, equal counts) before any figure counts. Landing is copied aside first
and restored at the end, however the benchmark ends.

Results: s3://<gold>/benchmarks/<bench_id>/ (results.csv, results.json, report.md, layers.png, scaling.png,
landed_to_pointer.png), gold/benchmarks/latest.json moved to it, and locally <out>/benchmark_results.csv and
<out>/benchmark/.

Exit codes: 0 verified; 1 a lane failed, timed out or disagreed (or an error stopped the sweep); 2 nothing measured
(store unreachable, engines did not start, bad settings); 3 landing could not be restored; 130 stopped by a signal.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from jobs.benchmark.data import DEFAULT_SEED
from jobs.benchmark.run import run_benchmark
from jobs.benchmark.sweep import DEFAULT_REPEATS, DEFAULT_ROWS, DEFAULT_TIMEOUT, BenchmarkConfig
from twinlake.benchmarks import BENCH_ID_PATTERN
from twinlake.cli.command import exit_process, new_app, run
from twinlake.settings import Settings, StoreRole

_SCALE = re.compile(r"^(\d+(?:\.\d+)?)([kKmM]?)$")


def rows_list(text: str) -> tuple[int, ...]:
    """`10000,100000,1000000` or `10k,100k,1M`: rows per file of each scale."""
    scales = []
    for part in text.split(","):
        found = _SCALE.match(part.strip())
        if not found:
            raise argparse.ArgumentTypeError(f"not a row count: {part!r} (e.g. 10000, 10k, 1M)")
        number = float(found.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[found.group(2).lower()]
        if number < 1 or number != int(number):
            raise argparse.ArgumentTypeError(f"not a whole positive row count: {part!r}")
        scales.append(int(number))
    return tuple(scales)


def bench_id(text: str) -> str:
    if not re.match(BENCH_ID_PATTERN, text):
        raise argparse.ArgumentTypeError(f"not a benchmark id: {text!r} (YYYYmmddTHHMMSSZ-6 hex digits)")
    return text


def _rows(text: str) -> tuple[int, ...]:
    try:
        return rows_list(text)
    except argparse.ArgumentTypeError as exc:
        raise typer.BadParameter(str(exc)) from None


def _bench_id(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return bench_id(text)
    except argparse.ArgumentTypeError as exc:
        raise typer.BadParameter(str(exc)) from None


app = new_app()
_DEFAULT_ROWS = ",".join(str(n) for n in DEFAULT_ROWS)


@app.command("benchmark")
def benchmark(
    rows: Annotated[
        str, typer.Option("--rows", metavar="LIST", help="Rows per file of each scale: 10000,100000 or 10k,1M.")
    ] = _DEFAULT_ROWS,
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Drops per scale.")] = DEFAULT_REPEATS,
    seed: Annotated[int, typer.Option("--seed", help="Generator seed of repeat 1; repeat n uses seed+n-1.")] = (
        DEFAULT_SEED
    ),
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Longest wait per drop for both runs, in seconds.")
    ] = DEFAULT_TIMEOUT,
    cache: Annotated[Path, typer.Option("--cache", help="Where generated files are kept.")] = Path("data/bench"),
    out: Annotated[Path, typer.Option("--out", help="Local copies of the results.")] = Path("data"),
    no_local_copy: Annotated[bool, typer.Option("--no-local-copy", help="Write the results to the lake only.")] = False,
    start_engines: Annotated[
        bool,
        typer.Option(
            "--start-engines", help="Start both engines as local processes when not running (make bench); stop after."
        ),
    ] = False,
    logs: Annotated[Path, typer.Option("--logs", help="Engine logs with --start-engines.")] = Path("data/logs"),
    checkpoint: Annotated[
        Path, typer.Option("--checkpoint", help="The Spark query's checkpoint with --start-engines.")
    ] = Path("data/checkpoints/spark-engine"),
    bench_id_: Annotated[
        str | None,
        typer.Option("--bench-id", show_default=False, help="The benchmark's id (default: start time + token)."),
    ] = None,
    duckdb_threads: Annotated[
        int, typer.Option("--duckdb-threads", min=1, help="Threads of the DuckDB reference.")
    ] = 2,
    fault_rate: Annotated[
        float | None, typer.Option("--fault-rate", show_default=False, help="Generator fault rate (default: its own).")
    ] = None,
) -> None:
    """Time both deployed engines end to end on the same drops, verify them, write the results to the lake.

    For each scale and repeat: generate the three files (seeded, cached), upload them into landing, wait until
    each engine's pointer names a run of exactly those files, run the DuckDB reference on them, and verify (Gold
    tables identical, counts equal) before any figure counts. Landing is copied to
    gold/benchmarks/BENCH_ID/landing-before/ first and put back at the end, however the benchmark ends. Results:
    s3://GOLD/benchmarks/BENCH_ID/ and gold/benchmarks/latest.json, and locally OUT/benchmark_results.csv and
    OUT/benchmark/. Uses the benchmark's store keys. Exit codes: 0 verified; 1 a lane failed, timed out or
    disagreed; 2 nothing measured (store unreachable, engines did not start, bad settings); 3 landing could not be
    restored; 130 stopped by a signal.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    console = Console(width=None if sys.stdout.isatty() else 160)
    settings = Settings.load(role=StoreRole.BENCHMARK)
    config = BenchmarkConfig(
        rows=_rows(rows),
        repeats=repeats,
        seed=seed,
        timeout=timeout,
        cache=cache,
        local_out=None if no_local_copy else out,
        start_engines=start_engines,
        logs=logs,
        checkpoint=checkpoint,
        bench_id=_bench_id(bench_id_),
        duckdb_threads=duckdb_threads,
        fault_rate=fault_rate,
    )
    code = run_benchmark(config, settings, console).exit_code
    if code != 0:
        raise typer.Exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    return run(app, argv, prog_name="python -m jobs.benchmark")


if __name__ == "__main__":
    exit_process(main())
