"""The twinlake dashboard (`streamlit run dashboard/app.py`, or `python -m dashboard`): a router over five pages.

Each page is a small script under `views/`; every read goes through `dashboard.data`. A read that fails anywhere
on a page (store down, object gone) replaces the page with what went wrong and a retry, never a traceback.
"""

from __future__ import annotations

import streamlit as st

from dashboard.data import LakeProblem
from dashboard.widgets import show_problem

st.set_page_config(page_title="twinlake", page_icon=":material/waves:", layout="wide")

PAGES = [
    st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("views/quality.py", title="Data quality", icon=":material/rule:"),
    st.Page("views/runs.py", title="Runs", icon=":material/history:"),
    st.Page("views/engines.py", title="Engines", icon=":material/compare_arrows:"),
    st.Page("views/benchmark.py", title="Benchmark", icon=":material/speed:"),
]

page = st.navigation(PAGES)
try:
    page.run()
except LakeProblem as problem:
    show_problem(problem)
