"""Engines: for every input set both engines processed, their speed side by side and whether their Gold is identical."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data, figures, widgets
from dashboard.figures import InputSetRuns
from twinlake.catalog import RunRef
from twinlake.compare import RunComparison
from twinlake.gold import GOLD_TABLES
from twinlake.layout import Engine

ENGINES = tuple(Engine)
PEAK_MEMORY_HELP = (
    "As each run records it: the peak resident memory of the engine's Python process (Spark's JVM is not included)."
)

runs = data.history()
widgets.live(ENGINES)

st.title("Engines")
sets = figures.input_sets(runs)
if not sets:
    if not runs:
        widgets.no_run_yet()
    else:
        st.info(
            "No input set has been processed by both engines yet. `make demo` runs both engines on the same files.",
            icon=":material/hourglass_empty:",
        )
    st.stop()


def compared(pair: InputSetRuns) -> RunComparison | None:
    """The comparison of the two engines' runs (None unless both succeeded)."""
    if not pair.both_succeeded:
        return None
    pandas, spark = pair.runs[Engine.PANDAS], pair.runs[Engine.SPARK]
    return data.comparison(RunRef(pandas.engine, pandas.run_id), RunRef(spark.engine, spark.run_id))


def verdict(pair: InputSetRuns, comparison: RunComparison | None) -> str:
    if comparison is None:
        failed = [widgets.ENGINE_NAMES[e] for e, r in pair.runs.items() if not r.succeeded]
        return f"{' and '.join(failed)} run failed"
    if comparison.identical:
        return "identical"
    return f"{len(comparison.differing_tables)} tables, {len(comparison.differing_counts)} counts differ"


def seconds(pair: InputSetRuns, engine: Engine) -> float | None:
    found = pair.runs[engine].seconds
    return None if found is None else found.total


def peak_mib(pair: InputSetRuns, engine: Engine) -> float | None:
    found = pair.runs[engine].peak_memory_bytes
    return None if found is None else round(found / 2**20)


comparisons = [compared(pair) for pair in sets]
summary = pd.DataFrame(
    [
        {
            "started": pair.started.replace(tzinfo=None),
            "input_set": pair.fingerprint[:12],
            "rows_in": pair.rows_in,
            "pandas_s": seconds(pair, Engine.PANDAS),
            "spark_s": seconds(pair, Engine.SPARK),
            "pandas_mib": peak_mib(pair, Engine.PANDAS),
            "spark_mib": peak_mib(pair, Engine.SPARK),
            "gold": verdict(pair, comparison),
        }
        for pair, comparison in zip(sets, comparisons, strict=True)
    ]
)
st.caption(
    f"{figures.plural(len(sets), 'input set')} processed by both engines, newest first; each engine's newest "
    "succeeded run of the set stands for it. Gold tables are compared by content hash."
)
st.dataframe(
    summary,
    hide_index=True,
    column_config={
        "started": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "input_set": "Input set",
        "rows_in": st.column_config.NumberColumn("Rows in", format="localized"),
        "pandas_s": st.column_config.NumberColumn("Pandas s", format="%.2f"),
        "spark_s": st.column_config.NumberColumn("Spark s", format="%.2f"),
        "pandas_mib": st.column_config.NumberColumn("Pandas peak MiB", format="localized", help=PEAK_MEMORY_HELP),
        "spark_mib": st.column_config.NumberColumn("Spark peak MiB", format="localized", help=PEAK_MEMORY_HELP),
        "gold": "Gold tables",
    },
)

st.subheader("One input set")
# Options are fingerprints (not positions): an option keeps its label when a newer input set arrives.
by_fingerprint = {pair.fingerprint: (pair, comparison) for pair, comparison in zip(sets, comparisons, strict=True)}
picked = st.selectbox(
    "Input set", list(by_fingerprint), format_func=lambda f: by_fingerprint[f][0].label, key="input-set"
)
pair, comparison = by_fingerprint[str(picked)]
for engine, run in sorted(pair.runs.items()):
    if not run.succeeded:
        st.error(f"The {widgets.ENGINE_NAMES[engine]} run {run.run_id} failed:", icon=":material/error:")
        st.code(run.error or "", language=None, wrap_lines=True)
if comparison is not None and comparison.identical:
    st.success(
        f"Identical: all {len(GOLD_TABLES)} Gold tables have the same content in both engines, and every count agrees.",
        icon=":material/check_circle:",
    )
elif comparison is not None:
    differing = ", ".join(comparison.differing_tables) or "none"
    st.error(
        f"Different: {len(comparison.differing_tables)} of {len(GOLD_TABLES)} Gold tables differ ({differing}); "
        f"{len(comparison.differing_counts)} counts differ.",
        icon=":material/difference:",
    )

speed, memory = st.columns([3, 1])
with speed:
    st.markdown("**Seconds per layer**")
    st.altair_chart(charts.layers_side_by_side(figures.layer_seconds(pair)), width="stretch")
with memory:
    st.markdown("**Peak memory**", help=PEAK_MEMORY_HELP)
    for engine in ENGINES:
        mib = peak_mib(pair, engine)
        st.metric(widgets.ENGINE_NAMES[engine], "—" if mib is None else f"{mib:,.0f} MiB", border=True)
    pandas_s, spark_s = seconds(pair, Engine.PANDAS), seconds(pair, Engine.SPARK)
    if pandas_s and spark_s:
        st.metric("Spark time / Pandas time", f"{spark_s / pandas_s:.2f} x", border=True)

if comparison is not None:
    st.markdown("**Gold tables**")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "table": t.table,
                    "same": t.identical,
                    "pandas_rows": t.rows_a,
                    "spark_rows": t.rows_b,
                    "pandas_hash": figures.short_hash(t.hash_a),
                    "spark_hash": figures.short_hash(t.hash_b),
                }
                for t in comparison.tables
            ]
        ),
        hide_index=True,
        height="content",
        column_config={
            "table": "Table",
            "same": st.column_config.CheckboxColumn("Identical"),
            "pandas_rows": st.column_config.NumberColumn("Pandas rows", format="localized"),
            "spark_rows": st.column_config.NumberColumn("Spark rows", format="localized"),
            "pandas_hash": "Pandas hash",
            "spark_hash": "Spark hash",
        },
    )
    if comparison.differing_counts:
        st.markdown("**Counts that differ**")
        st.dataframe(
            pd.DataFrame([{"count": c.what, "pandas": c.a, "spark": c.b} for c in comparison.counts if not c.equal]),
            hide_index=True,
        )
