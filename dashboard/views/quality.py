"""Data quality: what each dataset lost in Silver and why, the rejected rows themselves, and the trend across runs."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, data, export, figures, widgets
from twinlake.datasets import REASONS, ROW_NUMBER, SOURCE_ETAG, SOURCE_KEY, DatasetName
from twinlake.rules import rules_for

BROWSER_LIMITS = (100, 500, 2000)

runs, run = widgets.one_run_page("Data quality", "quality")
engine = run.engine
st.caption(f"{widgets.ENGINE_NAMES[engine]} run {run.run_id} · started {figures.when(run.started_at)}")

quality = data.aggregate(engine, run.run_id, "data_quality")
totals = figures.quality_totals(quality)
for column, row in zip(st.columns(len(totals)), totals.to_dict("records"), strict=True):
    column.metric(
        f"{row['dataset']}: rejected",
        figures.percent(row["reject_rate"]),
        help=f"{figures.count(row['rows_rejected'])} of {figures.count(row['rows_in'])} rows",
        border=True,
    )
st.dataframe(
    totals,
    hide_index=True,
    column_config={
        **widgets.COUNT_COLUMNS,
        "reject_rate": st.column_config.ProgressColumn("Reject rate", format="%.2f %%", min_value=0, max_value=100),
    },
)

st.subheader("Rejected rows per rule")
st.caption("A row that fails several rules counts once for each of them.")
rules = figures.rule_counts(quality)
for column, name in zip(st.columns(len(DatasetName)), DatasetName, strict=True):
    column.markdown(f"**{name}**")
    column.altair_chart(charts.rejected_by_rule(rules, str(name)), width="stretch")
with st.expander("Every rule, including those no row fails"):
    st.dataframe(
        rules,
        hide_index=True,
        height="content",
        column_config={
            **widgets.COUNT_COLUMNS,
            "share": st.column_config.NumberColumn("% of rows in", format="%.3f"),
        },
    )

st.subheader("Rejected rows")
pick_dataset, pick_rules, pick_limit = st.columns([1, 3, 1])
dataset = DatasetName(
    pick_dataset.selectbox("Dataset", list(DatasetName), format_func=str, key="browse-dataset", persist_state="session")
)
failing = {r["rule"]: int(r["rows_failed"]) for r in rules.to_dict("records") if r["dataset"] == dataset}
failing = {code: n for code, n in failing.items() if n > 0}
codes = [str(rule.code) for rule in rules_for(dataset) if str(rule.code) in failing]
chosen = pick_rules.multiselect(
    "Failing any of these rules (all when empty)",
    codes,
    format_func=lambda code: f"{code} ({figures.count(failing[code])})",
    key=f"browse-rules-{dataset}",
)
limit = int(pick_limit.selectbox("Rows", BROWSER_LIMITS, format_func=figures.count, key="browse-limit"))
rejected = data.rejected_rows(engine, run.run_id, dataset, tuple(sorted(chosen)), limit)
rejected_in_dataset = next(int(r["rows_rejected"]) for r in totals.to_dict("records") if r["dataset"] == dataset)
matching = rejected_in_dataset if not chosen else failing[chosen[0]] if len(chosen) == 1 else None
of_how_many = "" if matching is None else f" of {figures.count(matching)}"
st.caption(
    f"First {figures.count(len(rejected))}{of_how_many} rejected {dataset} rows, as they landed (raw text), "
    "with the object and row they came from and every rule they fail."
)
st.dataframe(
    rejected,
    hide_index=True,
    column_config={
        REASONS: st.column_config.TextColumn("Fails", width="medium"),
        SOURCE_KEY: "Object",
        SOURCE_ETAG: None,
        ROW_NUMBER: st.column_config.NumberColumn("Row", format="%d"),
    },
    column_order=[REASONS, *(c for c in rejected.columns if c not in (REASONS, SOURCE_ETAG))],
)
st.download_button(
    "Download these rows (CSV)",
    export.frame_csv(rejected),
    file_name=f"rejected-{dataset}-{engine}-{run.run_id}.csv",
    mime="text/csv",
    icon=":material/download:",
)

st.subheader("Reject rate across runs")
rates = figures.reject_rates(runs)
if rates["run_id"].nunique() < 2:
    st.caption("One succeeded run so far: the trend appears with the next run.")
else:
    st.altair_chart(charts.reject_rate_over_runs(rates), width="stretch")
