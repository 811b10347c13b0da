"""Runs: every run of both engines from their manifests, failed ones with their error, and one run in detail."""

from __future__ import annotations

import streamlit as st

from dashboard import data, export, figures, widgets
from twinlake.layout import Engine

ENGINES = tuple(Engine)

runs = data.history()
widgets.live(ENGINES)

st.title("Runs")
if not runs:
    widgets.no_run_yet()
    st.stop()

failed = sum(not m.succeeded for m in runs)
st.caption(
    f"{figures.plural(len(runs), 'run')} recorded, {figures.count(failed)} failed · newest first · "
    "a run appears here once its manifest is written"
)
show_engines = st.pills(
    "Engines", ENGINES, selection_mode="multi", default=ENGINES, format_func=widgets.ENGINE_NAMES.__getitem__
)
only_failed = st.toggle("Failed runs only", key="only-failed")
listed = [m for m in runs if m.engine in show_engines and not (only_failed and m.succeeded)]

table = figures.runs_table(listed)
# The grid shows what compares runs at a glance (the error only when a listed run failed); inputs and reference
# dates are in the detail below and in the download.
shown = ["started", "engine", "run_id", "status", "rows_in", "rows_rejected", "bronze_s", "silver_s", "gold_s"]
shown += ["total_s", "peak_mib", *(["error"] if any(not m.succeeded for m in listed) else [])]
st.dataframe(
    table,
    hide_index=True,
    column_order=shown,
    column_config={
        "started": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "engine": "Engine",
        "run_id": "Run",
        "status": "Status",
        "error": st.column_config.TextColumn("Error", width="medium"),
        "inputs": st.column_config.NumberColumn("Inputs", format="plain"),
        "input_mib": st.column_config.NumberColumn("Input MiB", format="%.1f"),
        "reference_date": st.column_config.DateColumn("Reference date"),
        **widgets.COUNT_COLUMNS,
        "bronze_s": st.column_config.NumberColumn("Bronze s", format="%.2f"),
        "silver_s": st.column_config.NumberColumn("Silver s", format="%.2f"),
        "gold_s": st.column_config.NumberColumn("Gold s", format="%.2f"),
        "total_s": st.column_config.NumberColumn("Total s", format="%.2f"),
        "peak_mib": st.column_config.NumberColumn(
            "Peak MiB", format="%.0f", help="Peak resident memory of the run's Python process (no JVM)"
        ),
    },
)
st.download_button(
    "Download the run history (CSV)", export.frame_csv(table), file_name="twinlake-runs.csv", mime="text/csv"
)
if not listed:
    st.stop()

st.subheader("Run detail")
by_key = {f"{m.engine}/{m.run_id}": m for m in listed}
key = st.selectbox(
    "Run",
    list(by_key),
    format_func=lambda k: f"{by_key[k].engine} · {figures.run_label(by_key[k])} · {by_key[k].status}",
    key="run-detail",
)
run = by_key[str(key)]
if not run.succeeded:
    took = (run.finished_at - run.started_at).total_seconds()
    st.error(f"This run failed after {took:.1f} s.", icon=":material/error:")
    st.code(run.error or "", language=None, wrap_lines=True)

facts = st.columns(4)
facts[0].metric("Status", run.status)
facts[1].metric("Reference date", str(run.reference_date))
facts[2].metric("Total seconds", "—" if run.seconds is None else f"{run.seconds.total:.2f}")
peak = run.peak_memory_bytes
facts[3].metric("Peak memory", "—" if peak is None else f"{peak / 2**20:,.0f} MiB")
st.caption(f"Started {figures.when(run.started_at)} · finished {figures.when(run.finished_at)}")

st.markdown("**Inputs** (pinned by ETag)")
st.dataframe(
    figures.inputs_table(run),
    hide_index=True,
    column_config={
        "dataset": "Dataset",
        "key": "Key",
        "etag": "ETag",
        "size": st.column_config.NumberColumn("Bytes", format="localized"),
    },
)
tables, counts = st.columns(2)
with tables:
    st.markdown("**Rows per dataset**")
    st.dataframe(
        figures.datasets_table(run),
        hide_index=True,
        column_config={
            **widgets.COUNT_COLUMNS,
            "reject_rate": st.column_config.NumberColumn("Reject %", format="%.2f"),
        },
    )
    st.markdown("**Gold tables** (rows, content hash)")
    st.dataframe(
        figures.gold_counts_table(run),
        hide_index=True,
        height="content",
        column_config={
            "table": "Table",
            "rows": st.column_config.NumberColumn("Rows", format="localized"),
            "hash": "Hash (first 12)",
        },
    )
with counts:
    st.markdown("**Rejected rows per rule**")
    st.dataframe(
        figures.rules_table(run),
        hide_index=True,
        height=565,  # as tall as the two tables beside it; the rest scrolls
        column_config=widgets.COUNT_COLUMNS,
    )
with st.expander("Library versions"):
    st.json(run.versions)
