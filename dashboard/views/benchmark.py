"""Benchmark: the newest results of the benchmark Job (`gold/benchmarks/latest.json`), as charts and a download."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, export, figures, widgets
from twinlake.benchmarks import TIME_COLUMNS, rows_to_csv
from twinlake.layout import Engine

st.title("Benchmark")
widgets.live(tuple(Engine))
results = data.latest_benchmark_results()
if results is None:
    st.info(
        "No benchmark yet. Run one on the local stack, or as a Job on the kind cluster; its results appear here.",
        icon=":material/speed:",
    )
    st.code("make bench        # local stack\nmake bench-k8s    # kind cluster", language="bash")
    st.stop()

scales = ", ".join(figures.count(n) for n in results.rows_per_file)
st.caption(
    f"Benchmark {results.bench_id} · {figures.when(results.started_at)} → {figures.when(results.finished_at)} · "
    f"rows per file {scales} · {figures.plural(results.repeats, 'repeat')} · seed {results.seed} · "
    f"{figures.plural(results.cpu_count, 'CPU')}"
)
if results.verified:
    st.success("Verified: every engine lane succeeded and produced the same results.", icon=":material/verified:")
else:
    st.warning(
        "Not verified: at least one lane failed, timed out, or did not match the others (see the table below). "
        "Its figures do not count.",
        icon=":material/warning:",
    )

layers, scaling = st.columns(2)
with layers:
    st.markdown("**Seconds per layer** (median over verified repeats)")
    st.altair_chart(charts.benchmark_layers(figures.benchmark_layers(results)))
with scaling:
    st.markdown("**Total seconds against rows per file** (log-log; dashed: the DuckDB floor)")
    st.altair_chart(charts.benchmark_scaling(figures.benchmark_totals(results)), width="stretch")

ratio, lanes = st.columns(2)
with ratio:
    st.markdown("**Time relative to Pandas** (below 1: faster than Pandas)")
    st.altair_chart(charts.ratio_to_pandas(figures.benchmark_ratios(results)), width="stretch")
with lanes:
    st.markdown("**Lanes**")
    frame = figures.benchmark_frame(results)
    verified = int(frame["verified"].sum())
    failed = int((frame["status"] != "succeeded").sum())
    st.metric("Verified lanes", f"{verified} of {len(frame)}", border=True)
    st.metric("Failed or timed-out lanes", f"{failed}", border=True)

st.markdown("**Every lane** (a failed or timed-out lane has no times)")
st.dataframe(
    frame.assign(repeat=frame["repeat"] + 1),
    hide_index=True,
    column_order=[
        *("engine", "rows_per_file", "repeat", "status", "verified"),
        *TIME_COLUMNS,
        *("peak_memory_mib", "process_peak_mib", "concurrent", "run_id", "error"),
    ],
    column_config={
        "engine": "Lane",
        "rows_per_file": st.column_config.NumberColumn("Rows per file", format="localized"),
        "repeat": st.column_config.NumberColumn("Repeat", format="%d", help="Counted from 1, as the command prints."),
        "status": "Status",
        "verified": st.column_config.CheckboxColumn("Verified"),
        "bronze_sec": st.column_config.NumberColumn("Bronze s", format="%.2f"),
        "silver_sec": st.column_config.NumberColumn("Silver s", format="%.2f"),
        "gold_sec": st.column_config.NumberColumn("Gold s", format="%.2f"),
        "total_sec": st.column_config.NumberColumn("Total s", format="%.2f"),
        "total_vs_pandas_ratio": st.column_config.NumberColumn("vs Pandas", format="%.2f"),
        "landed_to_pointer_sec": st.column_config.NumberColumn("Landed→pointer s", format="%.2f"),
        "peak_memory_mib": st.column_config.NumberColumn(
            "Run peak MiB", format="%.0f", help="The run's own figure from its manifest (the Python side of Spark)."
        ),
        "process_peak_mib": st.column_config.NumberColumn(
            "Process peak MiB",
            format="%.0f",
            help="The engine's whole process tree (the Spark JVM included), sampled while the drop ran; "
            "only when the benchmark started the engines itself.",
        ),
        "rows_per_sec": st.column_config.NumberColumn("Rows/s", format="localized"),
        "concurrent": st.column_config.CheckboxColumn("Engines overlapped"),
        "run_id": "Run",
        "error": "Error",
    },
)
st.download_button(
    "Download results.csv",
    export.defuse_csv(rows_to_csv(results.rows)),
    file_name=f"benchmark-{results.bench_id}.csv",
    mime="text/csv",
    icon=":material/download:",
)
