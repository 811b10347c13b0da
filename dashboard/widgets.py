"""Pieces every page shares: the engine and run pickers, the live pointer watch, and the states that replace a page
(no run yet, latest run failed, store unreachable).

Text from the lake (errors, keys, names) is never put into Markdown: it is shown with `st.code` or in a
grid, so a value such as `=HYPERLINK(...)` or `[x](http://…)` stays text.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

from dashboard import data
from dashboard.data import LakeProblem
from dashboard.figures import age, short_run_label, when
from twinlake.layout import Engine
from twinlake.manifest import RunManifest

LATEST = "latest"  # the run picker's choice that follows the pointer
ENGINE_NAMES = {Engine.PANDAS: "Pandas", Engine.SPARK: "Spark"}


def show_problem(problem: LakeProblem) -> None:
    """What could not be read, why, the next step, and a retry (instead of a traceback)."""
    st.error(problem.title, icon=":material/cloud_off:")
    st.code(problem.reason, language=None, wrap_lines=True)
    st.info(problem.next_step, icon=":material/lightbulb:")
    if st.button("Retry", icon=":material/refresh:", type="primary"):
        data.pointer.clear()
        st.rerun()


def default_engine() -> Engine:
    """The engine of the newest succeeded run (the global pointer's), else Pandas."""
    found = data.pointer(None)
    return Engine.PANDAS if found is None else found.engine


def engine_picker() -> Engine:
    picked = st.sidebar.segmented_control(
        "Engine",
        list(Engine),
        default=default_engine(),
        required=True,
        format_func=lambda e: ENGINE_NAMES[Engine(e)],
        key="engine",
        persist_state="session",
    )
    return Engine(picked)


def run_picker(engine: Engine, runs: list[RunManifest], page: str) -> RunManifest | None:
    """The run to show: the one the engine's pointer names (the default, "Latest", which follows the pointer), or
    any earlier succeeded run the user picked (kept across pages and new runs); None without a succeeded run."""
    succeeded = [m for m in runs if m.succeeded]
    if not succeeded:
        return None
    pointed = data.pointer(engine)
    latest = next((m for m in succeeded if pointed is not None and m.run_id == pointed.run_id), succeeded[0])
    by_id = {m.run_id: m for m in succeeded}
    chosen_key = f"chosen-run-{engine}"  # the run the user picked; absent while following the pointer
    chosen = st.session_state.get(chosen_key)
    # A new widget on each page and each time the pointer moves, started from the user's pick: a widget keeps
    # showing its old option labels in the browser otherwise, and a page switch would drop the pick.
    key = f"run-{engine}-{page}-{latest.run_id}"
    if key not in st.session_state:
        st.session_state[key] = chosen if chosen in by_id else LATEST

    def label(option: str) -> str:
        return f"Latest ({short_run_label(latest)})" if option == LATEST else short_run_label(by_id[option])

    picked = st.sidebar.selectbox(
        "Run",
        [LATEST, *by_id],
        format_func=label,
        key=key,
        help="Succeeded runs, newest first (start time · input set). Latest follows the pointer.",
    )
    if picked in (None, LATEST):
        st.session_state.pop(chosen_key, None)
        return latest
    st.session_state[chosen_key] = picked
    return by_id[str(picked)]


def one_run_page(title: str, page: str) -> tuple[list[RunManifest], RunManifest]:
    """The frame of a page about one run: sidebar pickers and live watch, the title, and the states that stop the
    page (no run yet; no succeeded run, under the failed-run banner). Returns the engine's runs and the run."""
    engine = engine_picker()
    runs = data.history(engine)
    run = run_picker(engine, runs, page)
    live((engine,))
    st.title(title)
    if not runs:
        no_run_yet(None if data.pointer(None) is None else engine)
        st.stop()
    latest_failed(runs, run)
    if run is None:
        st.stop()
    return runs, run


# Grid columns of the row counts every page shows the same way.
COUNT_COLUMNS: dict[str, str | ColumnConfig] = {
    "dataset": "Dataset",
    "rows_in": st.column_config.NumberColumn("Rows in", format="localized"),
    "rows_clean": st.column_config.NumberColumn("Clean", format="localized"),
    "rows_rejected": st.column_config.NumberColumn("Rejected", format="localized"),
    "rule": "Rule",
    "rows_failed": st.column_config.NumberColumn("Rows failing", format="localized"),
}


def no_run_yet(engine: Engine | None = None) -> None:
    who = "" if engine is None else f" of the {ENGINE_NAMES[engine]} engine"
    st.info(
        f"No run{who} yet — drop files with `make drop` (kind) or `make demo` (local stack). "
        "This page updates by itself when a run lands.",
        icon=":material/hourglass_empty:",
    )


def latest_failed(runs: list[RunManifest], shown: RunManifest | None) -> None:
    """A banner when the engine's newest run failed, with its error, above the last succeeded run."""
    if not runs or runs[0].succeeded:
        return
    failed = runs[0]
    then = "the last succeeded run is shown below" if shown is not None else "no run of this engine has succeeded yet"
    st.error(
        f"The latest {ENGINE_NAMES[failed.engine]} run failed: {failed.run_id}, "
        f"started {when(failed.started_at)}; {then}.",
        icon=":material/error:",
    )
    st.code(failed.error or "", language=None, wrap_lines=True)


def live(engines: tuple[Engine, ...]) -> None:
    """Watch the engines' pointers from the sidebar: the page redraws within `data.LIVE_SECONDS` of a move."""
    shown = data.watermark(engines)
    newest = tuple(runs[0].run_id if (runs := data.history(e)) else None for e in engines)
    with st.sidebar:
        _live_status(engines, shown, newest)


@st.fragment(run_every=data.LIVE_SECONDS)
def _live_status(engines: tuple[Engine, ...], shown: tuple[str | None, ...], newest: tuple[str | None, ...]) -> None:
    """One GET per pointer per tick; the history is listed again only when a pointer moved or it expired."""
    try:
        now = data.watermark(engines)
        runs_now = tuple(runs[0].run_id if (runs := data.history(e)) else None for e in engines)
    except LakeProblem:
        st.caption(":material/cloud_off: Store unreachable: showing what was read before.")
        return
    if now != shown or runs_now != newest:
        st.rerun()
    st.caption("**Live** · pointers checked every " + f"{data.LIVE_SECONDS:g} s")
    for engine in engines:
        found = data.pointer(engine)
        if found is None:
            st.caption(f"{ENGINE_NAMES[engine]}: no succeeded run yet")
        else:
            moved = (datetime.now(UTC) - found.generated_at).total_seconds()
            st.caption(f"{ENGINE_NAMES[engine]} pointer moved {age(moved)} ago → run {found.run_id}")
