"""Overview: the KPIs and sales of one run (the latest by default), each KPI against the engine's previous run."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data, figures, widgets
from dashboard.figures import GRAINS, SALES_TABLE, Grain

runs, run = widgets.one_run_page("Overview", "overview")
engine = run.engine
previous = data.previous_succeeded(runs, run)
compared = f"changes against the previous run {previous.run_id}" if previous else "no earlier run to compare with"
st.caption(
    f"{widgets.ENGINE_NAMES[engine]} run {run.run_id} · started {figures.when(run.started_at)} · "
    f"reference date {run.reference_date} · {compared}"
)


shown_run = run.run_id


def table(name: str, of: str = shown_run) -> pd.DataFrame:
    return data.aggregate(engine, of, name)


cards = figures.kpi_cards(
    table("kpi_global"),
    table("promo_kpi_global"),
    None if previous is None else table("kpi_global", previous.run_id),
    None if previous is None else table("promo_kpi_global", previous.run_id),
)
# The first card of each row holds the largest figure (revenue up to 10^12 must fit).
for row in (cards[:4], cards[4:]):
    for column, card in zip(st.columns([3, 2, 2, 2]), row, strict=False):
        column.metric(
            card.label,
            card.text(),
            card.delta,
            help=card.help,
            border=True,
            delta_color="off" if card.unchanged else "normal",
            delta_arrow="off" if card.unchanged else "auto",
        )

st.subheader("Revenue over time")
grain: Grain = st.segmented_control(
    "Grain", list(GRAINS), format_func=GRAINS.__getitem__, default="day", required=True, key="grain"
)
series = figures.revenue_series(table(SALES_TABLE[grain]), grain)
st.altair_chart(charts.revenue_over_time(series, grain), width="stretch")

by_country, by_product = st.columns(2)
with by_country:
    st.subheader("Revenue by country")
    countries = figures.floats(table("kpi_by_country"), "revenue")
    st.altair_chart(charts.ranked_bars(countries, "country", "revenue", title="Revenue", value_format=",.2f"))
with by_product:
    st.subheader("Revenue by product")
    products = figures.floats(table("kpi_by_product"), "revenue")
    st.altair_chart(charts.ranked_bars(products, "product", "revenue", title="Revenue", value_format=",.2f"))

promo_name, promo_country = st.columns(2)
with promo_name:
    st.subheader("Promotions by name")
    names = table("promo_kpi_by_name")
    st.altair_chart(charts.ranked_bars(names, "promo_name", "promotions", title="Promotions", value_format=","))
with promo_country:
    st.subheader("Promotions by country")
    promo_countries = table("promo_kpi_by_country")
    st.altair_chart(charts.ranked_bars(promo_countries, "country", "promotions", title="Promotions", value_format=","))
