"""The read commands: `twinlake runs`, `show`, `rejects` and `diff`, over the lake as the `twinlake` contract sees it.

They read with the dashboard's read-only keys, only through `twinlake.catalog` (runs, manifests, pointers),
`twinlake.tables` (row-limited Parquet reads) and `twinlake.compare` (content hashes), never by building a key.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated

import typer

from twinlake.catalog import Lake, RunRef
from twinlake.cli.command import ExitCode, UserError, new_app
from twinlake.cli.output import Column, Format, FormatOption, Listing, chosen, emit
from twinlake.compare import GoldHashes, RunComparison, compare_runs
from twinlake.datasets import DATASETS, LINEAGE_COLUMNS, REASONS, ROW_NUMBER, SOURCE_KEY, DatasetName
from twinlake.gold import GOLD_TABLES, GOLD_TABLES_BY_NAME
from twinlake.layout import Engine
from twinlake.manifest import RUN_ID_PATTERN, RunManifest
from twinlake.rules import RULES, RuleCode

RECENT_RUNS = 20
ERROR_WIDTH = 60
_RUN_ID = re.compile(RUN_ID_PATTERN)

EngineOption = Annotated[
    Engine | None, typer.Option("--engine", "-e", help="Only this engine's runs; its pointer names the default run.")
]
RunOption = Annotated[
    str | None,
    typer.Option("--run", "-r", metavar="RUN", help="A run id (or ENGINE/RUN_ID); default: the run the pointer names."),
]
LimitOption = Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many rows.")]


def open_lake(*, silver: bool = False) -> Lake:
    """The lake, read with the dashboard's read-only keys, after checking the store answers."""
    from twinlake.reach import require
    from twinlake.s3 import s3_client
    from twinlake.settings import Settings, StoreRole
    from twinlake.store import S3Store

    settings = Settings.load(role=StoreRole.DASHBOARD)
    require(settings, buckets=[settings.gold_bucket, *([settings.silver_bucket] if silver else [])])
    return Lake(S3Store(s3_client(settings)), settings.lake)


# -- choosing a run ------------------------------------------------------------------------------------------


def find_run(lake: Lake, engine: Engine | None, run: str | None) -> RunManifest:
    """The run a user means: `--run` (a run id, `ENGINE/RUN_ID`, an engine, or `latest`), else a pointer's run."""
    if run is None or run == "latest":
        return lake.resolve(engine)
    head, _, tail = run.partition("/")
    if tail:
        if head not in set(Engine):
            raise UserError(f"{run!r}: {head!r} is not an engine (pandas, spark)")
        if engine is not None and engine != head:
            raise UserError(f"--run {run} is a {head} run, but --engine is {engine}")
        engine, run = Engine(head), tail
    elif run in set(Engine):
        return lake.resolve(Engine(run))
    if not _RUN_ID.match(run):
        raise UserError(
            f"{run!r} is not a run: give a run id like 20261126T153000Z-3f9a1c, ENGINE/RUN_ID, an engine or latest",
            "`twinlake runs` lists the runs",
        )
    if engine is None:
        found = [m for e in Engine if (m := lake.find_manifest(RunRef(e, run))) is not None]
        if len(found) > 1:
            raise UserError(f"both engines have a run {run}", f"say which: pandas/{run} or spark/{run}")
        if found:
            return found[0]
    return lake.resolve(engine, run)


def describe(manifest: RunManifest) -> str:
    return f"{manifest.engine} run {manifest.run_id}"


def need_success(manifest: RunManifest, what: str) -> None:
    if not manifest.succeeded:
        raise UserError(
            f"{describe(manifest)} failed ({shorten(manifest.error or '', ERROR_WIDTH)}): it has no {what}",
            "`twinlake runs` shows every run; pick a succeeded one with --run",
        )


def shorten(text: str, width: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


# -- twinlake runs ------------------------------------------------------------------------------------------

runs_app = new_app("The run history, from the runs' manifests.")


@runs_app.command("runs")
def runs(
    engine: EngineOption = None,
    every: Annotated[bool, typer.Option("--all", "-a", help=f"Every run, not only the {RECENT_RUNS} newest.")] = False,
    fmt: FormatOption = Format.AUTO,
) -> None:
    """The run history, newest first: status, error, start, seconds per layer, rows, and which run each pointer names.

    A run appears once its manifest is written (the manifest is written last): a run in progress does not. The
    pointers column says which pointers name the run: ENGINE for its engine's (`gold/ENGINE/latest_run.json`, moved
    by every succeeded run of that engine), latest for the lake's (`gold/latest_run.json`, the newest succeeded run
    of any engine). Rows
    are the sums over the three datasets. A table gives seconds and rows as bronze / silver / gold / total and in /
    clean / rejected and shortens the error; CSV and JSON give one column each and the whole error.
    """
    lake = open_lake()
    history = lake.runs(engine)
    pointed = lake.pointed_runs()
    shown = history if every else history[:RECENT_RUNS]
    table = chosen(fmt) is Format.TABLE
    rows: list[list[object]] = []
    for m in shown:
        ref = RunRef(m.engine, m.run_id)
        names = [str(m.engine)] if pointed.get(m.engine) == ref else []
        names += ["latest"] if pointed.get(None) == ref else []
        seconds = [getattr(m.seconds, layer) if m.seconds else None for layer in _LAYERS]
        totals = [sum(getattr(c, name) for c in m.datasets.values()) if m.datasets else None for name in _TOTALS]
        if table:
            started = f"{m.started_at:%Y-%m-%d %H:%M:%S}"
            timing = " / ".join(f"{x:.1f}" for x in seconds if x is not None) or None
            counts = " / ".join(f"{x:,}" for x in totals if x is not None) or None
            error = shorten(m.error, ERROR_WIDTH) if m.error else None
            rows.append([m.run_id, str(m.engine), m.status, started, timing, counts, " ".join(names) or None, error])
        else:
            rows.append([m.run_id, str(m.engine), m.status, m.started_at, *seconds, *totals, names, m.error])
    if table:
        columns = [
            Column("run"),
            Column("engine"),
            Column("status"),
            Column("started (UTC)", wraps=True),
            Column("seconds\nbronze / silver / gold / total", numeric=True, wraps=True),
            Column("rows\nin / clean / rejected", numeric=True, wraps=True),
            Column("pointers", wraps=True),
            Column("error", wraps=True),
        ]
    else:
        columns = [
            Column("run"),
            Column("engine"),
            Column("status"),
            Column("started"),
            *(Column(f"{layer}_seconds") for layer in _LAYERS),
            *(Column(name) for name in _TOTALS),
            Column("pointers"),
            Column("error"),
        ]
    which = f"{engine} runs" if engine else "Runs"
    title = f"{which} in s3://{lake.buckets.gold}/, newest first: {len(shown)} of {len(history)}"
    notes = [] if every or len(shown) == len(history) else [f"--all shows the {len(history) - len(shown)} older ones"]
    if not history:
        notes.append("no run recorded yet: upload files (`make demo`, or `twinlake upload`) and start an engine")
    emit(Listing(columns, rows, title, notes), fmt)


_LAYERS = ("bronze", "silver", "gold", "total")
_TOTALS = ("rows_in", "rows_clean", "rows_rejected")


# -- twinlake show ------------------------------------------------------------------------------------------

show_app = new_app("A Gold table of a run, or the list of Gold tables.")


@show_app.command("show")
def show(
    table: Annotated[
        str | None, typer.Argument(help="A Gold table; leave out to list them.", show_default=False)
    ] = None,
    engine: EngineOption = None,
    run: RunOption = None,
    limit: LimitOption = 20,
    fmt: FormatOption = Format.AUTO,
) -> None:
    """A Gold table of the run the pointer names (or of --run), first rows first; alone, the tables and their rows.

    Without --engine and --run the run is the one `gold/latest_run.json` names (the newest succeeded run of any
    engine); with --engine, the one that engine's pointer names. Values are exact: decimals as stored.
    """
    if table is not None and table not in GOLD_TABLES_BY_NAME:
        raise UserError(f"no Gold table {table!r}; the tables are: {', '.join(GOLD_TABLES_BY_NAME)}")
    lake = open_lake()
    manifest = find_run(lake, engine, run)
    need_success(manifest, "Gold tables")
    if table is None:
        columns = [Column("table"), Column("rows", numeric=True, count=True), Column("about", wraps=True)]
        rows = [[t.name, manifest.gold_row_counts.get(t.name), t.doc] for t in GOLD_TABLES]
        title = f"Gold tables of {describe(manifest)}"
        emit(Listing(columns, rows, title, ["`twinlake show TABLE` shows one"]), fmt)
        return
    from twinlake.tables import read_table

    data = read_table(lake.store, lake.layout(RunRef(manifest.engine, manifest.run_id)).gold(table), limit=limit)
    total = manifest.gold_row_counts.get(table)
    title = f"{table} of {describe(manifest)}: {data.num_rows:,} of {'?' if total is None else f'{total:,}'} rows"
    emit(_listing_of(data, title), fmt)


def _listing_of(data: object, title: str) -> Listing:
    import pyarrow as pa

    assert isinstance(data, pa.Table)
    numeric = (pa.types.is_integer, pa.types.is_decimal, pa.types.is_floating)
    columns = [Column(f.name, numeric=any(test(f.type) for test in numeric)) for f in data.schema]
    rows = [[record[c.name] for c in columns] for record in data.to_pylist()]
    return Listing(columns, rows, title)


# -- twinlake rejects ---------------------------------------------------------------------------------------

rejects_app = new_app("Rejected rows of a dataset with their raw values, lineage and every reason.")


@rejects_app.command("rejects")
def rejects(
    dataset: Annotated[
        DatasetName, typer.Argument(metavar="DATASET", help="clients, purchases or promotions.", show_default=False)
    ],
    rule: Annotated[
        str | None, typer.Option("--rule", metavar="CODE", help="Only rows failing this rule (a rule code).")
    ] = None,
    engine: EngineOption = None,
    run: RunOption = None,
    limit: LimitOption = 20,
    fmt: FormatOption = Format.AUTO,
) -> None:
    """Rejected rows of a dataset in Silver: the raw values as they landed, where they came from, every failed rule.

    Lineage: the landing object's key (and, in CSV and JSON, its ETag) and the row number in it (1 is the first
    row after the header). The reasons are every rule the row fails, in declaration order; a table shows them
    first. The run is chosen as for `twinlake show`.
    """
    codes = [str(r.code) for r in RULES[dataset]]
    if rule is not None and rule not in codes:
        raise UserError(f"{dataset} has no rule {rule!r}; its rules are: {', '.join(codes)}")
    lake = open_lake(silver=True)
    manifest = find_run(lake, engine, run)
    counts = manifest.datasets.get(dataset)
    if counts is None:
        need_success(manifest, f"Silver for {dataset}")
        raise UserError(f"{describe(manifest)} has no counts for {dataset}")
    from twinlake.tables import read_table

    where = lake.layout(RunRef(manifest.engine, manifest.run_id)).silver_rejected(dataset)
    data = read_table(lake.store, where) if rule else read_table(lake.store, where, limit=limit)
    if rule is not None:
        reasons = data.column(REASONS).to_pylist()
        data = data.take([i for i, codes_of_row in enumerate(reasons) if rule in codes_of_row][:limit])
    keep = [*(c.name for c in DATASETS[dataset].columns), *LINEAGE_COLUMNS, REASONS]
    if chosen(fmt) is Format.TABLE:  # the reasons first: a narrow terminal crops the last columns
        keep = [REASONS, *(c.name for c in DATASETS[dataset].columns), ROW_NUMBER, SOURCE_KEY]
    matching = counts.rejected_by_rule.get(RuleCode(rule), 0) if rule else counts.rows_rejected
    what = f"failing {rule}" if rule else "rejected"
    title = f"{dataset} rows {what} in {describe(manifest)}: {data.num_rows:,} of {matching:,}"
    listing = _listing_of(data.select(keep), title)
    if chosen(fmt) is Format.TABLE:  # short headers for a terminal; CSV and JSON keep the Silver column names
        short = {SOURCE_KEY: "source", ROW_NUMBER: "row", REASONS: "reasons"}
        listing.columns = [replace(c, name=short.get(c.name, c.name)) for c in listing.columns]
    by_rule = sorted(((n, code) for code, n in counts.rejected_by_rule.items() if n), key=lambda x: (-x[0], x[1]))
    if by_rule and rule is None:
        listing.notes.append("rows per rule: " + ", ".join(f"{code} {n:,}" for n, code in by_rule))
    emit(listing, fmt)


# -- twinlake diff ------------------------------------------------------------------------------------------

diff_app = new_app("Whether two runs agree: every Gold table's content and every count.")


@diff_app.command("diff")
def diff(
    run_a: Annotated[str, typer.Argument(metavar="RUN_A", help="A run: RUN_ID, ENGINE/RUN_ID, an engine or latest.")],
    run_b: Annotated[str, typer.Argument(metavar="RUN_B", help="The other run, given the same way.")],
    fmt: FormatOption = Format.AUTO,
) -> None:
    """Whether two runs agree: each Gold table identical or not (content hashes), and every count side by side.

    A run is a run id, ENGINE/RUN_ID (when both engines have that id), an engine (the run its pointer names) or
    latest (the run `gold/latest_run.json` names): `twinlake diff pandas spark` compares the engines' latest
    runs. Tables are compared by a hash of their content in sort-key order, so part files and row order do not
    matter. Counts: rows in / clean / rejected and rows per rule of each dataset, and Gold row counts.
    Exit code 0 when the runs agree, 1 when anything differs.
    """
    lake = open_lake()
    a, b = find_run(lake, None, run_a), find_run(lake, None, run_b)
    comparison = compare_runs(GoldHashes(lake), a, b)
    columns = [
        Column("kind"),
        Column("name"),
        Column("A", numeric=True, count=True),
        Column("B", numeric=True, count=True),
        Column("same"),
    ]
    rows: list[list[object]] = [
        ["table", t.table, t.rows_a, t.rows_b, "yes" if t.identical else "NO"] for t in comparison.tables
    ]
    rows += [["count", c.what, c.a, c.b, "yes" if c.equal else "NO"] for c in comparison.counts]
    title = f"A: {describe(a)}\nB: {describe(b)}"
    listing = Listing(columns, rows, title, [verdict(comparison)])
    emit(listing, fmt, document=diff_document(comparison))
    if not comparison.identical:
        raise typer.Exit(ExitCode.NO)


def verdict(comparison: RunComparison) -> str:
    inputs = "the same input set" if comparison.same_inputs else "different input sets"
    if comparison.identical:
        return f"identical: all {len(comparison.tables)} Gold tables and all {len(comparison.counts)} counts ({inputs})"
    parts = []
    if comparison.differing_tables:
        parts.append(f"{len(comparison.differing_tables)} Gold table(s) ({', '.join(comparison.differing_tables)})")
    if comparison.differing_counts:
        parts.append(f"{len(comparison.differing_counts)} count(s)")
    return f"DIFFERENT: {' and '.join(parts)} differ ({inputs})"


def diff_document(comparison: RunComparison) -> dict[str, object]:
    return {
        "a": str(RunRef(comparison.a.engine, comparison.a.run_id)),
        "b": str(RunRef(comparison.b.engine, comparison.b.run_id)),
        "same_inputs": comparison.same_inputs,
        "identical": comparison.identical,
        "tables": [
            {
                "table": t.table,
                "identical": t.identical,
                "rows_a": t.rows_a,
                "rows_b": t.rows_b,
                "hash_a": t.hash_a,
                "hash_b": t.hash_b,
            }
            for t in comparison.tables
        ],
        "counts": [{"what": c.what, "a": c.a, "b": c.b, "equal": c.equal} for c in comparison.counts],
    }
