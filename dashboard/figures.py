"""What the pages show, computed from manifests and Gold aggregates: KPI cards, series, run and engine tables.

Pure functions (no Streamlit, no store), so each figure is tested on its own. Money stays a `Decimal` up to the
text on the page; charts get floats, for drawing only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

import pandas as pd

from twinlake.benchmarks import BenchmarkResults
from twinlake.datasets import DatasetName
from twinlake.layout import Engine
from twinlake.manifest import RunManifest

Grain = Literal["day", "week", "month"]
GRAINS: dict[Grain, str] = {"day": "Day", "week": "ISO week", "month": "Month"}
SALES_TABLE: dict[Grain, str] = {"day": "sales_by_day", "week": "sales_by_week", "month": "sales_by_month"}
LAYERS = ("bronze", "silver", "gold")

# -- text ------------------------------------------------------------------------------------------------------


def money(value: Decimal | float) -> str:
    return f"{value:,.2f}"


def count(value: int) -> str:
    return f"{value:,}"


def plural(value: int, noun: str) -> str:
    """`1 run`, `2 runs`."""
    return f"{value:,} {noun}{'' if value == 1 else 's'}"


def percent(value: Decimal | float) -> str:
    return f"{value:.2f} %"


def rate(part: int, whole: int) -> float:
    """`part` as a percentage of `whole` (0 for an empty whole)."""
    return 100.0 * part / whole if whole else 0.0


def when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def age(seconds: float) -> str:
    """`12 s`, `4 min`, `3 h 05 min`, `2 d 4 h`: how long ago, to a useful precision."""
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def run_label(run: RunManifest) -> str:
    return f"{when(run.started_at)} · {run.run_id}"


def short_run_label(run: RunManifest) -> str:
    """`2026-12-01 06:19:06 · 2a221f`: start time and input set, short enough for the sidebar."""
    return f"{run.started_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} · {run.input_fingerprint[:6]}"


def short_hash(value: str | None) -> str:
    return "—" if value is None else value.removeprefix("sha256:")[:12]


# -- KPI cards --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    """One KPI card: its value in this run and in the engine's previous run (None when there is none)."""

    label: str
    value: Decimal | int
    previous: Decimal | int | None
    unit: Literal["money", "count", "percent"]
    help: str

    def text(self, value: Decimal | int | None = None) -> str:
        shown = self.value if value is None else value
        if self.unit == "count":
            return count(int(shown))
        return money(Decimal(shown)) if self.unit == "money" else percent(Decimal(shown))

    @property
    def unchanged(self) -> bool:
        return self.previous is not None and Decimal(self.value) == Decimal(self.previous)

    @property
    def delta(self) -> str | None:
        """`+1,234.56 (+1.20 %)` against the previous run, `no change`; None without a previous run."""
        if self.previous is None:
            return None
        if self.unchanged:
            return "no change"
        change = Decimal(self.value) - Decimal(self.previous)
        sign = "+" if change >= 0 else "-"
        absolute = self.text(abs(change) if self.unit != "count" else int(abs(change)))
        if self.unit == "percent":
            absolute = absolute.replace(" %", " pts")
        relative = f" ({sign}{abs(100 * float(change) / float(self.previous)):.2f} %)" if self.previous else ""
        return f"{sign}{absolute}{relative}"


def _one_row(table: pd.DataFrame) -> dict[str, object]:
    if len(table) != 1:
        raise ValueError(f"expected exactly one row, found {len(table)}")
    row: dict[str, object] = table.iloc[0].to_dict()
    return row


def kpi_cards(
    sales: pd.DataFrame,
    promos: pd.DataFrame,
    previous_sales: pd.DataFrame | None = None,
    previous_promos: pd.DataFrame | None = None,
) -> list[Kpi]:
    """The seven KPI cards from `kpi_global` and `promo_kpi_global` (and the previous run's, for the changes)."""
    now_sales, now_promos = _one_row(sales), _one_row(promos)
    before_sales = _one_row(previous_sales) if previous_sales is not None else None
    before_promos = _one_row(previous_promos) if previous_promos is not None else None
    cards: list[tuple[str, str, dict[str, object], dict[str, object] | None, Literal["money", "count", "percent"], str]]
    cards = [
        ("Revenue", "total_revenue", now_sales, before_sales, "money", "Sum of every clean purchase amount"),
        ("Orders", "total_orders", now_sales, before_sales, "count", "Clean purchases"),
        ("Customers", "unique_customers", now_sales, before_sales, "count", "Distinct clients with a purchase"),
        ("Average order value", "avg_order_value", now_sales, before_sales, "money", "Revenue / orders"),
        ("Promotions", "total_promotions", now_promos, before_promos, "count", "Clean promotions"),
        ("Clients with a promotion", "clients_with_promotion", now_promos, before_promos, "count", "Distinct clients"),
        ("Average promo value", "avg_promo_value", now_promos, before_promos, "percent", "Mean promotion value"),
    ]
    return [
        Kpi(label, _number(now[column]), None if before is None else _number(before[column]), unit, help_text)
        for label, column, now, before, unit, help_text in cards
    ]


def _number(value: object) -> Decimal | int:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) or hasattr(value, "__index__"):
        return int(value)
    raise TypeError(f"not an exact number: {value!r}")


# -- series -----------------------------------------------------------------------------------------------------


def revenue_series(table: pd.DataFrame, grain: Grain) -> pd.DataFrame:
    """`period` (text), `start` (first day), `revenue` (float, for drawing), `orders`, `customers`, in time order,
    from `sales_by_day`, `sales_by_week` or `sales_by_month`."""
    if grain == "day":
        starts = [pd.Timestamp(d) for d in table["date"]]
        periods = [f"{d:%Y-%m-%d}" for d in starts]
    elif grain == "week":
        weeks = [(int(y), int(w)) for y, w in zip(table["iso_year"], table["iso_week"], strict=True)]
        starts = [pd.Timestamp(date.fromisocalendar(y, w, 1)) for y, w in weeks]
        periods = [f"{y}-W{w:02d}" for y, w in weeks]
    else:
        periods = [str(m) for m in table["month"]]
        starts = [pd.Timestamp(f"{m}-01") for m in periods]
    frame = pd.DataFrame(
        {
            "period": periods,
            "start": starts,
            "revenue": [float(v) for v in table["revenue"]],
            "orders": list(table["orders"]),
            "customers": list(table["customers"]),
        }
    )
    return frame.sort_values("start", ignore_index=True)


def floats(table: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """A copy with decimal columns as floats, for a chart."""
    out = table.copy()
    for column in columns:
        out[column] = [float(v) for v in out[column]]
    return out


# -- data quality -----------------------------------------------------------------------------------------------


def quality_totals(data_quality: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset: rows in, clean, rejected, reject rate (%), from `data_quality`."""
    totals = data_quality.groupby("dataset", sort=False)[["rows_in", "rows_clean", "rows_rejected"]].first()
    order = {str(name): i for i, name in enumerate(DatasetName)}
    totals = totals.reset_index().sort_values("dataset", key=lambda names: names.map(order), ignore_index=True)
    totals["reject_rate"] = [rate(r, n) for r, n in zip(totals["rows_rejected"], totals["rows_in"], strict=True)]
    return totals


def rule_counts(data_quality: pd.DataFrame) -> pd.DataFrame:
    """Rows failing each rule (a row failing two rules counts for both), with the share of the dataset's rows."""
    rules = data_quality[["dataset", "rule", "rows_failed", "rows_in"]].copy()
    rules["share"] = [rate(f, n) for f, n in zip(rules["rows_failed"], rules["rows_in"], strict=True)]
    return rules.drop(columns="rows_in").sort_values(["rows_failed", "dataset", "rule"], ascending=[False, True, True])


def reject_rates(runs: list[RunManifest]) -> pd.DataFrame:
    """The reject rate of each dataset in each succeeded run: `started`, `run_id`, `dataset`, `reject_rate`."""
    rows = [
        {
            "started": run.started_at.astimezone(UTC).replace(tzinfo=None),
            "run_id": run.run_id,
            "dataset": str(dataset),
            "reject_rate": rate(counts.rows_rejected, counts.rows_in),
            "rows_in": counts.rows_in,
        }
        for run in runs
        if run.succeeded
        for dataset, counts in run.datasets.items()
    ]
    columns = ["started", "run_id", "dataset", "reject_rate", "rows_in"]
    return pd.DataFrame(rows, columns=columns).sort_values(["started", "dataset"], ignore_index=True)


# -- runs -------------------------------------------------------------------------------------------------------


def _first_line(text: str | None) -> str:
    return "" if text is None else text.strip().splitlines()[0]


def runs_table(runs: list[RunManifest]) -> pd.DataFrame:
    """One row per run, newest first, as the Runs page lists them."""
    rows = []
    for run in runs:
        seconds = run.seconds
        rows.append(
            {
                "started": run.started_at.astimezone(UTC).replace(tzinfo=None),
                "engine": str(run.engine),
                "run_id": run.run_id,
                "status": run.status,
                "error": _first_line(run.error),
                "rows_in": sum(c.rows_in for c in run.datasets.values()),
                "rows_rejected": sum(c.rows_rejected for c in run.datasets.values()),
                "bronze_s": None if seconds is None else seconds.bronze,
                "silver_s": None if seconds is None else seconds.silver,
                "gold_s": None if seconds is None else seconds.gold,
                "total_s": None if seconds is None else seconds.total,
                "peak_mib": None if run.peak_memory_bytes is None else run.peak_memory_bytes / 2**20,
                "inputs": len(run.inputs),
                "input_mib": sum(i.size for i in run.inputs) / 2**20,
                "reference_date": run.reference_date,
            }
        )
    return pd.DataFrame(rows)


def inputs_table(run: RunManifest) -> pd.DataFrame:
    return pd.DataFrame(
        [{"dataset": str(i.dataset), "key": i.key, "etag": i.etag, "size": i.size} for i in run.inputs],
        columns=["dataset", "key", "etag", "size"],
    )


def datasets_table(run: RunManifest) -> pd.DataFrame:
    rows = [
        {
            "dataset": str(dataset),
            "rows_in": c.rows_in,
            "rows_clean": c.rows_clean,
            "rows_rejected": c.rows_rejected,
            "reject_rate": rate(c.rows_rejected, c.rows_in),
        }
        for dataset, c in run.datasets.items()
    ]
    return pd.DataFrame(rows, columns=["dataset", "rows_in", "rows_clean", "rows_rejected", "reject_rate"])


def rules_table(run: RunManifest) -> pd.DataFrame:
    rows = [
        {"dataset": str(dataset), "rule": rule, "rows_failed": n}
        for dataset, c in run.datasets.items()
        for rule, n in sorted(c.rejected_by_rule.items())
        if n
    ]
    return pd.DataFrame(rows, columns=["dataset", "rule", "rows_failed"])


def gold_counts_table(run: RunManifest) -> pd.DataFrame:
    rows = [
        {"table": t, "rows": n, "hash": short_hash(run.gold_table_hashes.get(t))}
        for t, n in run.gold_row_counts.items()
    ]
    return pd.DataFrame(rows, columns=["table", "rows", "hash"])


# -- engines ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputSetRuns:
    """An input set both engines processed, and the run of each engine that stands for it (its newest
    succeeded run, else its newest run)."""

    fingerprint: str
    runs: dict[Engine, RunManifest]

    @property
    def started(self) -> datetime:
        return max(r.started_at for r in self.runs.values())

    @property
    def rows_in(self) -> int:
        return max(sum(c.rows_in for c in r.datasets.values()) for r in self.runs.values())

    @property
    def both_succeeded(self) -> bool:
        return all(r.succeeded for r in self.runs.values())

    @property
    def label(self) -> str:
        return f"{when(self.started)} · input set {self.fingerprint[:12]} · {count(self.rows_in)} rows in"


def input_sets(runs: list[RunManifest]) -> list[InputSetRuns]:
    """Every input set that every engine has a run of, newest first."""
    by_set: dict[str, dict[Engine, list[RunManifest]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        by_set[run.input_fingerprint][run.engine].append(run)
    found = []
    for fingerprint, per_engine in by_set.items():
        if set(per_engine) != set(Engine):
            continue
        chosen = {}
        for engine, engine_runs in per_engine.items():
            ordered = sorted(engine_runs, key=lambda m: (m.succeeded, m.started_at, m.run_id), reverse=True)
            chosen[engine] = ordered[0]
        found.append(InputSetRuns(fingerprint, chosen))
    return sorted(found, key=lambda s: s.started, reverse=True)


def layer_seconds(pair: InputSetRuns) -> pd.DataFrame:
    """`engine`, `layer`, `seconds` for each engine's run (layers of a run without timings are left out)."""
    rows = [
        {"engine": str(engine), "layer": layer, "seconds": getattr(run.seconds, layer)}
        for engine, run in sorted(pair.runs.items())
        if run.seconds is not None
        for layer in LAYERS
    ]
    return pd.DataFrame(rows, columns=["engine", "layer", "seconds"])


# -- benchmark ----------------------------------------------------------------------------------------------------


def benchmark_frame(results: BenchmarkResults) -> pd.DataFrame:
    """Every row of a benchmark, one column per field (failed and timed-out lanes have no times)."""
    return pd.DataFrame([row.model_dump() for row in results.rows])


def _verified(results: BenchmarkResults, column: str) -> pd.DataFrame:
    """The rows that count: succeeded, verified, with `column` recorded (an unverified figure is never plotted)."""
    frame = benchmark_frame(results)
    return frame[(frame["status"] == "succeeded") & frame["verified"] & frame[column].notna()]


def benchmark_layers(results: BenchmarkResults) -> pd.DataFrame:
    """Median seconds per layer of each lane and scale over the verified repeats (the figures the benchmark quotes):
    `engine`, `rows_per_file`, `layer`, `seconds`."""
    timed = _verified(results, "bronze_sec")
    if timed.empty:
        return pd.DataFrame(columns=["engine", "rows_per_file", "layer", "seconds"])
    medians = timed.groupby(["engine", "rows_per_file"])[[f"{layer}_sec" for layer in LAYERS]].median().reset_index()
    long = medians.melt(id_vars=["engine", "rows_per_file"], var_name="layer", value_name="seconds")
    long["layer"] = long["layer"].str.removesuffix("_sec")
    return long


def benchmark_totals(results: BenchmarkResults) -> pd.DataFrame:
    """Total seconds of every verified lane and repeat: `engine`, `rows_per_file`, `repeat`, `total_sec`."""
    timed = _verified(results, "total_sec")
    return timed[["engine", "rows_per_file", "repeat", "total_sec"]].reset_index(drop=True)


def benchmark_ratios(results: BenchmarkResults) -> pd.DataFrame:
    """Median ratio of each lane's total time to the Pandas lane's over the verified repeats, per scale: `engine`,
    `rows_per_file`, `ratio`."""
    timed = _verified(results, "total_vs_pandas_ratio")
    ratios = timed.groupby(["engine", "rows_per_file"])["total_vs_pandas_ratio"].median().reset_index()
    return ratios.rename(columns={"total_vs_pandas_ratio": "ratio"})
