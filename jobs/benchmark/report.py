"""What a benchmark shows: the console tables, `report.md`, the PNG plots, and where they are written.

Every figure shown comes from verified rows only (a row is verified when every lane of its drop agreed); failed,
timed-out and unverified rows are listed with their status and reason, never plotted. Medians are over the repeats
of a scale.
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from twinlake.benchmarks import (
    LANDING_BACKUP,
    REPORT_MD,
    RESULTS_CSV,
    RESULTS_JSON,
    BenchmarkResults,
    BenchmarkRow,
    benchmark_file,
    benchmark_folder,
    rows_to_csv,
)
from twinlake.store import ObjectStore

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LANES = ("pandas", "spark", "duckdb")
ENGINE_LANES = ("pandas", "spark")
LAYERS = ("bronze", "silver", "gold")
LAYER_COLOURS = {"bronze": "#b0793b", "silver": "#9aa5b1", "gold": "#d4a72c"}
LANE_COLOURS = {"pandas": "#1f77b4", "spark": "#e4572e", "duckdb": "#555555"}
PLOTS = {
    "layers.png": "seconds per layer (Bronze, Silver, Gold stacked) of each lane, one panel per scale",
    "scaling.png": "total seconds against rows per file (log-log), each engine with the DuckDB reference as floor",
    "landed_to_pointer.png": "seconds from the end of the upload to the engine's pointer move, against rows per file",
}
LOCAL_CSV = "benchmark_results.csv"
LOCAL_FOLDER = "benchmark"


# ---- figures ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Median:
    """The median figures of one lane at one scale, over its verified repeats."""

    lane: str
    rows_per_file: int
    repeats: int
    bronze: float
    silver: float
    gold: float
    total: float
    ratio: float | None
    landed_to_pointer: float | None
    total_min: float
    total_max: float
    peak_mib: float | None
    rows_per_sec: float | None
    concurrent: int  # repeats whose two engine runs overlapped


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def medians(rows: Sequence[BenchmarkRow]) -> list[Median]:
    """One `Median` per lane and scale that has verified rows, scales ascending, lanes in `LANES` order."""
    found: list[Median] = []
    for scale in sorted({r.rows_per_file for r in rows}):
        for lane in LANES:
            mine = [r for r in rows if r.verified and r.rows_per_file == scale and r.engine == lane]
            totals = [r.total_sec for r in mine if r.total_sec is not None]
            if not totals:
                continue
            found.append(
                Median(
                    lane=lane,
                    rows_per_file=scale,
                    repeats=len(mine),
                    bronze=_median(r.bronze_sec for r in mine) or 0.0,
                    silver=_median(r.silver_sec for r in mine) or 0.0,
                    gold=_median(r.gold_sec for r in mine) or 0.0,
                    total=statistics.median(totals),
                    ratio=_median(r.total_vs_pandas_ratio for r in mine),
                    landed_to_pointer=_median(r.landed_to_pointer_sec for r in mine),
                    total_min=min(totals),
                    total_max=max(totals),
                    peak_mib=_median(r.process_peak_mib or r.peak_memory_mib for r in mine),
                    rows_per_sec=_median(r.rows_per_sec for r in mine),
                    concurrent=sum(1 for r in mine if r.concurrent),
                )
            )
    return found


def _num(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return "-" if value is None else f"{value:,.{digits}f}{suffix}"


# ---- console ------------------------------------------------------------------------------------------------


def rows_table(results: BenchmarkResults) -> Table:
    """Every row: one line per lane and drop, with its status and whether it was verified."""
    table = Table(title=f"benchmark {results.bench_id}: every lane of every drop", show_lines=False)
    for name, justify in [
        ("rows/file", "right"),
        ("rep", "right"),
        ("lane", "left"),
        ("status", "left"),
        ("verified", "left"),
        ("bronze s", "right"),
        ("silver s", "right"),
        ("gold s", "right"),
        ("total s", "right"),
        ("x pandas", "right"),
        ("landed->pointer s", "right"),
        ("peak MiB", "right"),
        ("rows/s", "right"),
        ("overlap", "left"),
    ]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in results.rows:
        status = r.status if r.status == "succeeded" else f"[red]{r.status}[/red]"
        table.add_row(
            f"{r.rows_per_file:,}",
            str(r.repeat + 1),
            r.engine,
            status,
            "[green]yes[/green]" if r.verified else "[red]no[/red]",
            _num(r.bronze_sec),
            _num(r.silver_sec),
            _num(r.gold_sec),
            _num(r.total_sec),
            _num(r.total_vs_pandas_ratio, suffix="x"),
            _num(r.landed_to_pointer_sec),
            _num(r.process_peak_mib or r.peak_memory_mib, 0),
            _num(r.rows_per_sec, 0),
            "-" if r.concurrent is None else ("yes" if r.concurrent else "no"),
        )
    return table


def medians_table(results: BenchmarkResults) -> Table:
    """The figures to quote: per scale and lane, the medians over the verified repeats."""
    table = Table(title=f"benchmark {results.bench_id}: medians over verified repeats")
    for name in (
        "rows/file",
        "lane",
        "n",
        "bronze s",
        "silver s",
        "gold s",
        "total s",
        "x pandas",
        "landed->pointer s",
    ):
        table.add_column(name, justify="left" if name == "lane" else "right")
    for m in medians(results.rows):
        table.add_row(
            f"{m.rows_per_file:,}",
            m.lane,
            str(m.repeats),
            _num(m.bronze),
            _num(m.silver),
            _num(m.gold),
            _num(m.total),
            _num(m.ratio, suffix="x"),
            _num(m.landed_to_pointer),
        )
    return table


def print_results(console: Console, results: BenchmarkResults) -> None:
    console.print(rows_table(results))
    console.print(medians_table(results))


# ---- report.md ----------------------------------------------------------------------------------------------


def _load(load: tuple[float, float, float] | None) -> str:
    return "unknown" if load is None else " / ".join(f"{x:.2f}" for x in load)


def render_report(results: BenchmarkResults, plots: Sequence[str]) -> str:
    """`report.md`: what ran, whether it was verified, the medians, every row, the plots and how to read them."""
    seeds = f"{results.seed}..{results.seed + results.repeats - 1}" if results.repeats > 1 else str(results.seed)
    duration = (results.finished_at - results.started_at).total_seconds()
    verdict = (
        "**verified**: in every drop both engines' Gold tables are identical (content hashes) and every count "
        "agrees between the engines and the DuckDB reference"
        if results.verified and results.complete
        else "**NOT verified**: see the problems below; unverified rows are not plotted"
    )
    landing = (
        "not touched (the benchmark stopped before it)"
        if results.landing_objects is None
        else f"{results.landing_objects} object(s) kept in this benchmark's folder (`{LANDING_BACKUP}/`) and "
        + ("restored" if results.landing_restored else "**NOT restored**")
    )
    lines = [
        f"# twinlake benchmark {results.bench_id}",
        "",
        f"- ran {results.started_at:%Y-%m-%d %H:%M:%S} to {results.finished_at:%H:%M:%S} UTC ({duration:,.0f} s)"
        + ("" if results.complete else ", **stopped early**"),
        f"- {results.mode} engines; drops: rows per file {', '.join(f'{n:,}' for n in results.rows_per_file)} "
        f"x {results.repeats} repeat(s) (generator seeds {seeds}), three files per drop",
        f"- machine: {results.cpu_count} cores; load average (1 / 5 / 15 min) {_load(results.load_average_start)} at "
        f"the start, {_load(results.load_average_end)} at the end: figures taken under load are upper bounds",
        f"- verification: {verdict}",
        f"- landing: {landing}",
        "",
        "## Medians over the verified repeats",
        "",
        "| rows per file | lane | n | bronze s | silver s | gold s | total s | x pandas | landed-to-pointer s "
        "| total min-max s | peak MiB | rows/s | runs overlapped |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in medians(results.rows):
        lines.append(
            f"| {m.rows_per_file:,} | {m.lane} | {m.repeats} | {_num(m.bronze)} | {_num(m.silver)} | {_num(m.gold)} "
            f"| {_num(m.total)} | {_num(m.ratio, suffix='x')} | {_num(m.landed_to_pointer)} "
            f"| {_num(m.total_min)}-{_num(m.total_max)} | {_num(m.peak_mib, 0)} | {_num(m.rows_per_sec, 0)} "
            f"| {m.concurrent if m.lane in ENGINE_LANES else '-'} |"
        )
    lines += [
        "",
        "`total s` is the run's own time (Bronze + Silver + Gold, every write included) from its manifest; "
        "`landed-to-pointer s` is the deployed system end to end: from the end of the upload to the moment the "
        "engine's `latest_run.json` named the run (store events, Kafka, the engine's batching, the run, the "
        "pointer). `x pandas` is a lane's total over the Pandas run's on the same drop. The DuckDB reference runs "
        "in the benchmark's own process after both engines finished, on the same files: the floor.",
        "",
        "## Plots",
        "",
    ]
    for name in plots:
        lines += [f"![{name}]({name})", "", f"`{name}`: {PLOTS[name]}.", ""]
    lines += [
        "## Every row",
        "",
        "| rows per file | repeat | lane | status | verified | bronze s | silver s | gold s | total s | x pandas "
        "| landed-to-pointer s | run | error |",
        "|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results.rows:
        lines.append(
            f"| {r.rows_per_file:,} | {r.repeat + 1} | {r.engine} | {r.status} | {'yes' if r.verified else 'no'} "
            f"| {_num(r.bronze_sec)} | {_num(r.silver_sec)} | {_num(r.gold_sec)} | {_num(r.total_sec)} "
            f"| {_num(r.total_vs_pandas_ratio, suffix='x')} | {_num(r.landed_to_pointer_sec)} | {r.run_id or '-'} "
            f"| {(r.error or '').replace('|', '/')[:120]} |"
        )
    lines += ["", "## Problems", ""]
    lines += [f"- {p}" for p in results.problems] or ["none"]
    return "\n".join(lines) + "\n"


# ---- plots ----------------------------------------------------------------------------------------------------


def _figure_bytes(draw: Callable[[Figure], None], size: tuple[float, float]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=size, dpi=110)
    try:
        draw(fig)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()
    finally:
        plt.close(fig)


def _no_data(fig: Figure, title: str) -> None:
    ax = fig.add_subplot(1, 1, 1)
    ax.text(0.5, 0.5, "no verified lane to show", ha="center", va="center")
    ax.set_axis_off()
    ax.set_title(title)


def plot_layers(results: BenchmarkResults) -> bytes:
    """Stacked Bronze / Silver / Gold seconds of each lane (medians), one panel per scale."""
    found = medians(results.rows)
    scales = sorted({m.rows_per_file for m in found})
    title = f"Seconds per layer, median of verified repeats ({results.bench_id})"

    def draw(fig: Figure) -> None:
        if not scales:
            _no_data(fig, title)
            return
        axes = fig.subplots(1, len(scales), squeeze=False)[0]
        for ax, scale in zip(axes, scales, strict=True):
            mine = [m for m in found if m.rows_per_file == scale]
            for i, m in enumerate(mine):
                bottom = 0.0
                for layer in LAYERS:
                    value = getattr(m, layer)
                    ax.bar(i, value, bottom=bottom, color=LAYER_COLOURS[layer], label=layer if i == 0 else None)
                    bottom += value
                ax.text(i, m.total, f"{m.total:.1f} s", ha="center", va="bottom", fontsize=8)
            ax.set_xticks(range(len(mine)), [m.lane for m in mine])
            ax.set_title(f"{scale:,} rows per file")
            ax.set_ylabel("seconds")
            ax.margins(y=0.12)
        axes[0].legend(loc="upper left", fontsize=8)
        fig.suptitle(title)

    return _figure_bytes(draw, (4.0 * max(len(scales), 1) + 1, 4.2))


def _series(
    found: Sequence[Median], lane: str, value: Callable[[Median], float | None]
) -> tuple[list[int], list[float]]:
    points = [(m.rows_per_file, value(m)) for m in found if m.lane == lane and value(m) is not None]
    return [p[0] for p in points], [float(p[1]) for p in points if p[1] is not None]


def _log_log(ax: Axes, ylabel: str, title: str) -> None:
    """Both axes logarithmic, rows per file along x, a grid, the legend and the title."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rows per file (three files per drop)")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)


def plot_scaling(results: BenchmarkResults) -> bytes:
    """Total seconds against rows per file, log-log: each engine (median, min-max bars), DuckDB dashed (floor)."""
    found = medians(results.rows)
    title = f"Total seconds against rows per file ({results.bench_id})"

    def draw(fig: Figure) -> None:
        if not found:
            _no_data(fig, title)
            return
        ax = fig.add_subplot(1, 1, 1)
        for lane in ENGINE_LANES:
            mine = [m for m in found if m.lane == lane]
            if not mine:
                continue
            xs = [m.rows_per_file for m in mine]
            ys = [m.total for m in mine]
            errors = [[m.total - m.total_min for m in mine], [m.total_max - m.total for m in mine]]
            ax.errorbar(xs, ys, yerr=errors, marker="o", capsize=3, color=LANE_COLOURS[lane], label=f"{lane} run")
        xs, ys = _series(found, "duckdb", lambda m: m.total)
        if xs:
            ax.plot(xs, ys, linestyle="--", marker=".", color=LANE_COLOURS["duckdb"], label="DuckDB reference (floor)")
        _log_log(ax, "seconds (run total, log)", title)

    return _figure_bytes(draw, (7.0, 4.6))


def plot_landed_to_pointer(results: BenchmarkResults) -> bytes:
    """Landed-to-pointer seconds per engine against rows per file (log-log), the run's own total dotted beside it:
    the gap between the two lines is what the deployed path adds (events, batching, start-up, pointer)."""
    found = medians(results.rows)
    title = f"Landed-to-pointer seconds ({results.bench_id})"

    def draw(fig: Figure) -> None:
        if not any(m.landed_to_pointer for m in found):
            _no_data(fig, title)
            return
        ax = fig.add_subplot(1, 1, 1)
        for lane in ENGINE_LANES:
            xs, ys = _series(found, lane, lambda m: m.landed_to_pointer)
            if xs:
                ax.plot(xs, ys, marker="o", color=LANE_COLOURS[lane], label=f"{lane}: upload end to pointer")
                for x, y in zip(xs, ys, strict=True):
                    ax.annotate(f"{y:.1f}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
            xs, ys = _series(found, lane, lambda m: m.total)
            if xs:
                ax.plot(xs, ys, linestyle=":", marker="x", color=LANE_COLOURS[lane], label=f"{lane}: run total")
        _log_log(ax, "seconds (log)", title)

    return _figure_bytes(draw, (7.0, 4.6))


def render_plots(results: BenchmarkResults) -> dict[str, bytes]:
    return {
        "layers.png": plot_layers(results),
        "scaling.png": plot_scaling(results),
        "landed_to_pointer.png": plot_landed_to_pointer(results),
    }


# ---- outputs --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """Where a benchmark's outputs went."""

    lake_folder: str  # s3://<gold>/benchmarks/<bench_id>/
    names: tuple[str, ...]
    local_csv: Path | None
    local_folder: Path | None


def outputs(results: BenchmarkResults) -> dict[str, bytes]:
    """Every file of a benchmark, by name: results.csv, results.json, report.md and the plots."""
    plots = render_plots(results)
    return {
        RESULTS_CSV: rows_to_csv(results.rows),
        RESULTS_JSON: results.to_json(),
        REPORT_MD: render_report(results, list(plots)).encode("utf-8"),
        **plots,
    }


def write_local(files: dict[str, bytes], local_out: Path) -> tuple[Path, Path]:
    """`<local_out>/benchmark_results.csv`, and every other file in `<local_out>/benchmark/`."""
    folder = local_out / LOCAL_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    csv = local_out / LOCAL_CSV
    csv.write_bytes(files[RESULTS_CSV])
    for name, body in files.items():
        if name != RESULTS_CSV:
            (folder / name).write_bytes(body)
    return csv, folder


def write_outputs(store: ObjectStore, gold_bucket: str, results: BenchmarkResults, local_out: Path | None) -> Written:
    """Write the files to `gold/benchmarks/<bench_id>/`, and locally to `<local_out>/benchmark_results.csv` and
    `<local_out>/benchmark/` (the plots, report.md, results.json)."""
    files = outputs(results)
    for name, body in files.items():
        where = benchmark_file(gold_bucket, results.bench_id, name)
        store.put(where.bucket, where.key, body)
    local_csv, local_folder = write_local(files, local_out) if local_out is not None else (None, None)
    return Written(benchmark_folder(gold_bucket, results.bench_id).uri(), tuple(files), local_csv, local_folder)
