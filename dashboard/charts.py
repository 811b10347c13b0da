"""The dashboard's charts, as Altair specifications built from the frames of `dashboard.figures`.

Every chart has a tooltip with exact figures; colours are fixed per engine, dataset and layer, so the same thing has
the same colour on every page.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.figures import GRAINS, Grain

ENGINE_COLORS = {"pandas": "#1f77b4", "spark": "#ff7f0e", "duckdb": "#7f7f7f"}
DATASET_COLORS = {"clients": "#4c78a8", "purchases": "#f58518", "promotions": "#54a24b"}
LAYER_COLORS = {"bronze": "#b07d48", "silver": "#9aa5b1", "gold": "#e3b505"}
HEIGHT = 280


def color_by(field: str, palette: dict[str, str], present: pd.Series | None = None) -> alt.Color:
    """Colour by `field` from a palette, for the values present only (no legend entry for what is not there)."""
    names = [n for n in palette if present is None or n in set(present)]
    scale = alt.Scale(domain=names, range=[palette[n] for n in names])
    return alt.Color(f"{field}:N", scale=scale, legend=alt.Legend(orient="bottom", title=None))


def revenue_over_time(series: pd.DataFrame, grain: Grain) -> alt.Chart:
    """Revenue per day, ISO week or month (an area for days, bars for weeks and months)."""
    base = alt.Chart(series).encode(
        x=alt.X("start:T", title=GRAINS[grain], axis=alt.Axis(format="%Y-%m-%d" if grain == "day" else "%Y-%m")),
        y=alt.Y("revenue:Q", title="Revenue", axis=alt.Axis(format="~s")),
        tooltip=[
            alt.Tooltip("period:N", title=GRAINS[grain]),
            alt.Tooltip("revenue:Q", title="Revenue", format=",.2f"),
            alt.Tooltip("orders:Q", title="Orders", format=","),
            alt.Tooltip("customers:Q", title="Customers", format=","),
        ],
    )
    mark = base.mark_area(line=True, opacity=0.35) if grain == "day" else base.mark_bar()
    return mark.properties(height=HEIGHT)


def ranked_bars(
    frame: pd.DataFrame, category: str, value: str, *, title: str, value_format: str, color: str = "#4c78a8"
) -> alt.LayerChart:
    """Horizontal bars, largest first, every category labelled, the value written at the end of each bar."""
    room = float(frame[value].max()) * 1.22 if len(frame) else 1.0  # space for the value labels
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{category}:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False, labelLimit=200)),
        x=alt.X(f"{value}:Q", title=title, axis=alt.Axis(format="~s", tickCount=5), scale=alt.Scale(domain=[0, room])),
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{value}:Q", title=title, format=value_format)],
    )
    bars = base.mark_bar(color=color)
    labels = base.mark_text(align="left", dx=4, color="#444").encode(text=alt.Text(f"{value}:Q", format=value_format))
    return (bars + labels).properties(height=alt.Step(26))


def rejected_by_rule(rules: pd.DataFrame, dataset: str) -> alt.LayerChart:
    """Rows of one dataset failing each of its rules (rules that no row fails are left out)."""
    failing = rules[(rules["dataset"] == dataset) & (rules["rows_failed"] > 0)]
    return ranked_bars(
        failing, "rule", "rows_failed", title="Rows failing the rule", value_format=",", color=DATASET_COLORS[dataset]
    )


def reject_rate_over_runs(rates: pd.DataFrame) -> alt.Chart:
    """The reject rate of each dataset, run after run."""
    return (
        alt.Chart(rates)
        .mark_line(point=True)
        .encode(
            x=alt.X("started:T", title="Run started (UTC)", axis=alt.Axis(format="%Y-%m-%d %H:%M", labelAngle=0)),
            y=alt.Y("reject_rate:Q", title="Rejected rows (%)"),
            color=color_by("dataset", DATASET_COLORS),
            tooltip=[
                alt.Tooltip("run_id:N", title="Run"),
                alt.Tooltip("dataset:N"),
                alt.Tooltip("reject_rate:Q", title="Rejected (%)", format=".2f"),
                alt.Tooltip("rows_in:Q", title="Rows in", format=","),
            ],
        )
        .properties(height=HEIGHT)
    )


def layers_side_by_side(layers: pd.DataFrame) -> alt.Chart:
    """Seconds per layer, one bar per engine for each layer."""
    return (
        alt.Chart(layers)
        .mark_bar()
        .encode(
            x=alt.X("layer:N", sort=["bronze", "silver", "gold"], title=None, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("engine:N"),
            y=alt.Y("seconds:Q", title="Seconds"),
            color=color_by("engine", ENGINE_COLORS, layers["engine"]),
            tooltip=[alt.Tooltip("engine:N"), alt.Tooltip("layer:N"), alt.Tooltip("seconds:Q", format=".2f")],
        )
        .properties(height=HEIGHT)
    )


def benchmark_layers(layers: pd.DataFrame) -> alt.FacetChart:
    """Mean seconds per layer, stacked, one bar per engine, one panel per scale (rows per file)."""
    return (
        alt.Chart(layers)
        .mark_bar()
        .encode(
            x=alt.X("engine:N", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("seconds:Q", title="Seconds (median over verified repeats)", stack="zero"),
            color=color_by("layer", LAYER_COLORS),
            order=alt.Order("layer_order:Q"),
            tooltip=[
                alt.Tooltip("engine:N"),
                alt.Tooltip("rows_per_file:Q", title="Rows per file", format=","),
                alt.Tooltip("layer:N"),
                alt.Tooltip("seconds:Q", format=".2f"),
            ],
        )
        .transform_calculate(layer_order="indexof(['bronze', 'silver', 'gold'], datum.layer)")
        .properties(width=140, height=HEIGHT)
        .facet(column=alt.Column("rows_per_file:O", title="Rows per file", header=alt.Header(format=",")))
    )


def benchmark_scaling(totals: pd.DataFrame) -> alt.LayerChart:
    """Total seconds against rows per file, both axes logarithmic: every repeat, and a line through the means."""
    log = alt.Scale(type="log")
    points = (
        alt.Chart(totals)
        .mark_point(filled=True, opacity=0.6)
        .encode(
            x=alt.X("rows_per_file:Q", scale=log, title="Rows per file (log)", axis=alt.Axis(format="~s")),
            y=alt.Y("total_sec:Q", scale=log, title="Total seconds (log)"),
            color=color_by("engine", ENGINE_COLORS, totals["engine"]),
            tooltip=[
                alt.Tooltip("engine:N"),
                alt.Tooltip("rows_per_file:Q", title="Rows per file", format=","),
                alt.Tooltip("repeat:Q"),
                alt.Tooltip("total_sec:Q", title="Seconds", format=".2f"),
            ],
        )
    )
    means = (
        alt.Chart(totals)
        .mark_line()
        .encode(
            x=alt.X("rows_per_file:Q", scale=log),
            y=alt.Y("mean(total_sec):Q", scale=log),
            color=color_by("engine", ENGINE_COLORS, totals["engine"]),
            strokeDash=alt.condition("datum.engine == 'duckdb'", alt.value([4, 4]), alt.value([1, 0])),
        )
    )
    return (points + means).properties(height=HEIGHT)


def ratio_to_pandas(ratios: pd.DataFrame) -> alt.LayerChart:
    """Each lane's total time divided by the Pandas lane's, per scale; the rule marks 1 (as fast as Pandas)."""
    bars = (
        alt.Chart(ratios)
        .mark_bar()
        .encode(
            x=alt.X("rows_per_file:O", title="Rows per file", axis=alt.Axis(format=",", labelAngle=0)),
            xOffset=alt.XOffset("engine:N"),
            y=alt.Y("ratio:Q", title="Time / Pandas time"),
            color=color_by("engine", ENGINE_COLORS, ratios["engine"]),
            tooltip=[
                alt.Tooltip("engine:N"),
                alt.Tooltip("rows_per_file:Q", title="Rows per file", format=","),
                alt.Tooltip("ratio:Q", format=".2f"),
            ],
        )
    )
    one = alt.Chart(pd.DataFrame({"ratio": [1.0]})).mark_rule(strokeDash=[4, 4], color="#444").encode(y="ratio:Q")
    return (bars + one).properties(height=HEIGHT)
