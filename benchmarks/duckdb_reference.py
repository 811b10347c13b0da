"""The twinlake pipeline (Bronze -> Silver -> Gold) as DuckDB SQL: the yardstick the Pandas engine is timed against.

It computes what the engines compute, on the same landing CSVs, and writes every table as Parquet (zstd, like
`jobs/pandas_engine/tables.py`), so its wall time is a fair reference:

- Bronze: each CSV read with every column VARCHAR (an empty field is the empty string, as in the engines) plus
  the lineage columns `_source_key`, `_source_etag` and the 1-based `_row_number`.
- Silver: every rule of `twinlake.rules`, compiled here from the rule declarations into SQL (allowed lists,
  patterns and rule order are never retyped): trim of `TRIM_CHARACTERS`, RE2 `regexp_full_match` on the exact
  patterns, a calendar check (`try_cast(... AS DATE)`) after the ISO pattern, decimals, ASCII-only case folding,
  `unknown_client` against the clean clients, then `duplicate` / `duplicate_id` among the rows that pass every
  row rule, by `row_number()` over the normalised content / id ordered by (source key, row number). Clean rows
  are typed (`twinlake.gold.SILVER_TYPES`); rejected rows keep their raw text and the list of every failed code.
- Gold: the 15 tables of `twinlake.gold.GOLD_TABLES`, each compiled to SQL from its declaration in
  `twinlake.gold.GOLD_DECLARATIONS` after the integrity checks (`check_promises`), with their exact column types
  and sort keys; money in integer cents, averages rounded half-up as `(2*s + n) // (2*n)`.

Use `run_reference(sources, out_dir, reference_date)`; it returns the per-dataset counts (the shape of
`twinlake.manifest.DatasetCounts`), the Gold row counts and the seconds per layer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, assert_never

import duckdb
import typer

from twinlake.cli.command import UserError, new_app, run
from twinlake.datasets import (
    DATASETS,
    LINEAGE_COLUMNS,
    REASONS,
    ROW_NUMBER,
    SOURCE_ETAG,
    SOURCE_KEY,
    ColumnKind,
    Dataset,
    DatasetName,
)
from twinlake.gold import (
    DAY_NAMES,
    GOLD_DECLARATIONS_BY_NAME,
    GOLD_TABLES,
    INTEGRITY_CHECKS,
    MONTH_NAMES,
    SILVER_TYPES,
    Aggregate,
    Attribute,
    CalendarSpan,
    ClientExists,
    ColumnType,
    Count,
    DistinctClients,
    Enumeration,
    Fact,
    GoldDeclaration,
    GoldTable,
    HalfUpAverage,
    IntegrityCheck,
    IsoWeek,
    IsoYear,
    Key,
    Measure,
    ProductExists,
    QualityCounts,
    SilverCopy,
    SilverPromiseBroken,
    SumCents,
    YearMonth,
)
from twinlake.rules import (
    DECIMAL_2_PATTERN,
    ISO_DATE_PATTERN,
    POSITIVE_ID_PATTERN,
    TRIM_CHARACTERS,
    AfterReferenceDate,
    Blank,
    ExactDuplicate,
    NotAllowed,
    NotAmongClean,
    NotCalendarDate,
    NotMatching,
    OutsideRange,
    RepeatedId,
    RowCheck,
    Rule,
    duplicate_rules,
    row_rules,
    rules_for,
)
from twinlake.schema import PARSE_DECIMAL_PRECISION, PARSE_DECIMAL_SCALE
from twinlake.store import md5_etag

PARQUET = "(FORMAT parquet, COMPRESSION zstd)"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PARSE_DECIMAL = f"DECIMAL({PARSE_DECIMAL_PRECISION},{PARSE_DECIMAL_SCALE})"  # as every engine parses


@dataclass(frozen=True)
class Source:
    """One landing CSV: its dataset, its landing key and ETag (the lineage values) and where it is on disk."""

    dataset: DatasetName
    key: str
    etag: str
    path: Path


@dataclass
class ReferenceResult:
    """What a reference run computed: counts per dataset, Gold row counts, and wall seconds per layer."""

    counts: dict[str, dict[str, Any]] = field(default_factory=dict)
    gold_row_counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


# ---- SQL spelling helpers ----------------------------------------------------------------------------------


def lit(value: str) -> str:
    """A SQL string literal (backslashes are literal in DuckDB strings; only quotes need doubling)."""
    return "'" + value.replace("'", "''") + "'"


def str_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ascii_lower(expr: str) -> str:
    """ASCII-only case folding (never Unicode lowering: the Kelvin sign must not become 'k').

    `translate` is exact but slow; on an all-ASCII value (as many bytes as characters) Unicode `lower` maps
    exactly A-Z to a-z, so it is used there, and `translate` only for the (rare) other values.
    """
    return (
        f"CASE WHEN strlen({expr}) = length({expr}) THEN lower({expr}) "
        f"ELSE translate({expr}, {lit(_UPPER)}, {lit(_UPPER.lower())}) END"
    )


def trim(expr: str) -> str:
    """Trim TRIM_CHARACTERS at both ends; `trim(x, chars)` runs only on values that start or end with one."""
    ws = "[" + "".join(f"\\x{ord(c):02X}" for c in TRIM_CHARACTERS) + "]"
    padded = f"regexp_matches({expr}, {lit(f'^{ws}|{ws}$')})"
    return f"CASE WHEN {padded} THEN trim({expr}, {lit(TRIM_CHARACTERS)}) ELSE {expr} END"


def duckdb_type(kind: ColumnType) -> str:
    """The DuckDB type of a twinlake logical column type."""
    match kind:
        case ColumnType.INT32:
            return "INTEGER"
        case ColumnType.INT64:
            return "BIGINT"
        case ColumnType.STRING:
            return "VARCHAR"
        case ColumnType.DATE:
            return "DATE"
        case ColumnType.MONEY | ColumnType.PERCENT | ColumnType.TOTAL:
            return kind.value.upper()
        case _:
            assert_never(kind)


def _typed(column: str) -> str:
    """Name of the normalised (typed) value of a dataset column inside the Silver query."""
    return ident(f"v_{column}")


def _flag(rule: Rule) -> str:
    return ident(f"f_{rule.code}")


def _raw(column: str) -> str:
    return ident(f"r_{column}")


# ---- Bronze ------------------------------------------------------------------------------------------------


def _bronze_sql(dataset: Dataset, sources: Sequence[Source]) -> list[str]:
    """Load each CSV into an in-memory table (insertion order = file order), and a `bronze_<name>` view."""
    statements: list[str] = []
    parts: list[str] = []
    for i, source in enumerate(sources):
        raw = ident(f"raw_{dataset.name}_{i}")
        columns = ", ".join(f"coalesce({ident(c)}, '') AS {ident(c)}" for c in dataset.column_names)
        statements.append(
            f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT {columns} FROM read_csv({lit(str(source.path))}, "
            "all_varchar = true, header = true, delim = ',', quote = '\"', escape = '\"')"
        )
        names = ", ".join(ident(c) for c in dataset.column_names)
        parts.append(
            f"SELECT {names}, {lit(source.key)} AS {ident(SOURCE_KEY)}, {lit(source.etag)} AS {ident(SOURCE_ETAG)}, "
            f"CAST(rowid + 1 AS BIGINT) AS {ident(ROW_NUMBER)} FROM {raw}"
        )
    statements.append(f"CREATE OR REPLACE TEMP VIEW {ident(f'bronze_{dataset.name}')} AS " + " UNION ALL ".join(parts))
    return statements


# ---- Silver ------------------------------------------------------------------------------------------------


def _normalised(dataset: Dataset) -> list[str]:
    """One typed value per dataset column, NULL where the text does not parse (only read for valid rows)."""
    out = []
    for column in dataset.columns:
        c = ident(column.name)
        match column.kind:
            case ColumnKind.ID:
                expr = f"CASE WHEN regexp_full_match({c}, {lit(POSITIVE_ID_PATTERN)}) THEN CAST({c} AS BIGINT) END"
            case ColumnKind.TEXT:
                expr = c
            case ColumnKind.EMAIL:
                expr = ascii_lower(c)
            case ColumnKind.DATE:
                expr = f"CASE WHEN regexp_full_match({c}, {lit(ISO_DATE_PATTERN)}) THEN try_cast({c} AS DATE) END"
            case ColumnKind.MONEY | ColumnKind.PERCENT:
                expr = (
                    f"CASE WHEN regexp_full_match({c}, {lit(DECIMAL_2_PATTERN)}) THEN CAST({c} AS {_PARSE_DECIMAL}) END"
                )
            case ColumnKind.ENUM:
                lowered = str_list([a.lower() for a in column.allowed])
                expr = f"{str_list(column.allowed)}[list_position({lowered}, {ascii_lower(c)})]"
            case _:
                assert_never(column.kind)
        out.append(f"{expr} AS {_typed(column.name)}")
    return out


def _fails(check: RowCheck, reference_date: date) -> str:
    """The SQL boolean (never NULL) that says a row fails `check`; reads the trimmed text and typed values."""
    c = ident(check.column)
    present = f"{c} <> ''"
    match check:
        case Blank():
            return f"{c} = ''"
        case NotMatching(pattern=pattern):
            return f"({present} AND NOT regexp_full_match({c}, {lit(pattern)}))"
        case NotCalendarDate():
            return f"({present} AND {_typed(check.column)} IS NULL)"
        case AfterReferenceDate():
            return f"coalesce({_typed(check.column)} > DATE {lit(reference_date.isoformat())}, false)"
        case OutsideRange(low_exclusive=low, high_inclusive=high):
            v = _typed(check.column)
            return f"coalesce(NOT ({v} > {low} AND {v} <= {high}), false)"
        case NotAllowed(allowed=allowed):
            lowered = str_list([a.lower() for a in allowed])
            return f"({present} AND list_position({lowered}, {ascii_lower(c)}) IS NULL)"
        case NotAmongClean(dataset=ref, ref_column=ref_column):
            # the referenced dataset's clean rows: its Silver is built first (datasets are processed in order)
            clean = ident(f"clean_{ref}")
            return f"coalesce({_typed(check.column)} NOT IN (SELECT {ident(ref_column)} FROM {clean}), false)"
        case _:
            assert_never(check)


def _silver_sql(dataset: Dataset, reference_date: date, out_dir: Path) -> list[str]:
    """Statements that build `checked_<name>` (every row, its flags), `clean_<name>`, and write Silver."""
    name = dataset.name
    lineage = ", ".join(ident(c) for c in LINEAGE_COLUMNS)
    order = f"{ident(SOURCE_KEY)}, {ident(ROW_NUMBER)}"
    trimmed = ", ".join(f"{ident(c)} AS {_raw(c)}, {trim(ident(c))} AS {ident(c)}" for c in dataset.column_names)
    flags = ", ".join(f"{_fails(r.check, reference_date)} AS {_flag(r)}" for r in row_rules(name))
    passes = " AND ".join(f"NOT {_flag(r)}" for r in row_rules(name)) or "true"
    content = ", ".join(_typed(c) for c in dataset.column_names)
    later: dict[Rule, str] = {}  # "an earlier row that passes every row rule has the same ..."
    for rule in duplicate_rules(name):
        match rule.check:
            case ExactDuplicate():
                partition = content
            case RepeatedId(column=column):
                partition = _typed(column)
            case _:
                raise TypeError(f"not a duplicate check: {rule.check}")
        later[rule] = f"(_ok AND row_number() OVER (PARTITION BY _ok, {partition} ORDER BY {order}) > 1)"
    exact = [_flag(r) for r in later if isinstance(r.check, ExactDuplicate)]
    # a repeated id whose content is also repeated is an exact duplicate only
    duplicates = ", ".join(
        f"{expr} AS {_flag(r)}" if isinstance(r.check, ExactDuplicate) else f"{expr} AS {ident(f'_later_{r.code}')}"
        for r, expr in later.items()
    )
    repeated = ", ".join(
        f"({ident(f'_later_{r.code}')}{''.join(f' AND NOT {e}' for e in exact)}) AS {_flag(r)}"
        for r in later
        if isinstance(r.check, RepeatedId)
    )
    every = rules_for(name)
    reasons = (
        "list_filter(["
        + ", ".join(f"CASE WHEN {_flag(r)} THEN {lit(r.code)} END" for r in every)
        + "], x -> x IS NOT NULL)"
    )
    rejected = " OR ".join(_flag(r) for r in every)
    checked = ident(f"checked_{name}")
    clean = ident(f"clean_{name}")
    typed_columns = ", ".join(
        f"CAST({_typed(c.name)} AS {duckdb_type(SILVER_TYPES[c.kind])}) AS {ident(c.name)}" for c in dataset.columns
    )
    raw_columns = ", ".join(f"{_raw(c)} AS {ident(c)}" for c in dataset.column_names)
    return [
        f"""CREATE OR REPLACE TEMP TABLE {checked} AS
        WITH t AS (SELECT {trimmed}, {lineage} FROM {ident(f"bronze_{name}")}),
        p AS (SELECT *, {", ".join(_normalised(dataset))} FROM t),
        f AS (SELECT *, {flags} FROM p),
        o AS (SELECT *, {passes} AS _ok FROM f),
        d AS (SELECT *, {duplicates} FROM o),
        e AS (SELECT *, {repeated} FROM d)
        SELECT *, ({rejected}) AS _rejected FROM e""",
        f"CREATE OR REPLACE TEMP TABLE {clean} AS SELECT {typed_columns}, {lineage} FROM {checked} "
        f"WHERE NOT _rejected ORDER BY {order}",
        f"COPY {clean} TO {lit(str(out_dir / 'silver' / f'{name}.parquet'))} {PARQUET}",
        # the reason lists are built for the rejected rows only
        f"COPY (SELECT {raw_columns}, {lineage}, {reasons} AS {ident(REASONS)} FROM {checked} WHERE _rejected "
        f"ORDER BY {order}) "
        f"TO {lit(str(out_dir / 'silver' / f'{name}_rejected.parquet'))} {PARQUET}",
    ]


def _counts_sql(dataset: Dataset) -> str:
    rules = rules_for(dataset.name)
    sums = ", ".join(f"CAST(sum(CAST({_flag(r)} AS INTEGER)) AS BIGINT)" for r in rules)
    return (
        "SELECT count(*), CAST(coalesce(sum(CAST(NOT _rejected AS INTEGER)), 0) AS BIGINT), "
        f"CAST(coalesce(sum(CAST(_rejected AS INTEGER)), 0) AS BIGINT), {sums} FROM {ident(f'checked_{dataset.name}')}"
    )


# ---- Gold --------------------------------------------------------------------------------------------------

_MACROS = [
    # cents (any integer) -> decimal(18,2), exactly (decimal multiplication is exact; the cast checks range)
    "CREATE OR REPLACE TEMP MACRO tl_total(c) AS CAST(CAST(c AS DECIMAL(18,0)) * CAST(0.01 AS DECIMAL(3,2)) AS "
    "DECIMAL(18,2))",
    # s / n rounded half-up to a whole cent, 0 over no rows (s >= 0)
    "CREATE OR REPLACE TEMP MACRO tl_avg(s, n) AS CASE WHEN n > 0 THEN (2 * s + n) // (2 * n) ELSE 0 END",
]


def _fact_cte(fact: Fact) -> str:
    """`f AS (...)`: the fact's clean rows, what its checks look up (inner joins: `check_promises` has passed)
    and its money in integer cents."""
    selects = [f"f.{ident(c.name)}" for c in DATASETS[fact.dataset].columns]
    joins = []
    for check in fact.checks:
        match check:
            case ClientExists():
                joins.append(f"JOIN clean_clients c ON f.{ident(check.column)} = c.client_id")
                selects.append(f"c.{ident(check.adds)}")
            case ProductExists():
                position = f"list_position({str_list(check.values)}, f.{ident(check.column)})"
                selects.append(f"CAST({position} AS INTEGER) AS {ident(check.adds)}")
            case _:
                assert_never(check)
    selects.append(f"CAST(f.{ident(fact.money)} * 100 AS BIGINT) AS cents")
    source = ident(f"clean_{fact.dataset}")
    return f"f AS (SELECT {', '.join(selects)} FROM {source} f {' '.join(joins)})"


def _key(key: Key) -> str:
    match key:
        case Attribute():
            expr = ident(key.source)
        case IsoYear():
            expr = f"isoyear({ident(key.column)})"
        case IsoWeek():
            expr = f"week({ident(key.column)})"
        case YearMonth():
            expr = f"strftime({ident(key.column)}, '%Y-%m')"
        case _:
            assert_never(key)
    return f"{expr} AS {ident(key.name)}"


def _measure(measure: Measure) -> str:
    match measure:
        case SumCents():
            expr = "tl_total(coalesce(sum(cents), 0))"
        case Count():
            expr = "count(*)"
        case DistinctClients():
            expr = "count(DISTINCT client_id)"
        case HalfUpAverage():
            expr = "tl_total(tl_avg(coalesce(sum(cents), 0), count(*)))"
        case _:
            assert_never(measure)
    return f"{expr} AS {ident(measure.name)}"


def _gold_query(declaration: GoldDeclaration) -> str:
    """A Gold table's query, compiled from its declaration (any column types and order; `_gold_sql` casts and
    sorts)."""
    match declaration:
        case SilverCopy():
            return f"SELECT * FROM {ident(f'clean_{declaration.dataset}')}"
        case Enumeration():
            return (
                f"SELECT unnest(range(1, {len(declaration.values) + 1})) AS {ident(declaration.id_column)}, "
                f"unnest({str_list(declaration.values)}) AS {ident(declaration.value_column)}"
            )
        case CalendarSpan():
            column = ident(declaration.column)
            return (
                f"SELECT CAST(d AS DATE) AS date, year(d) AS year, quarter(d) AS quarter, month(d) AS month, "
                f"{str_list(MONTH_NAMES)}[month(d)] AS month_name, isoyear(d) AS iso_year, week(d) AS iso_week, "
                f"day(d) AS day, isodow(d) AS day_of_week, {str_list(DAY_NAMES)}[isodow(d)] AS day_name FROM ("
                f"SELECT unnest(generate_series(CAST(min({column}) AS TIMESTAMP), CAST(max({column}) AS TIMESTAMP), "
                f"INTERVAL 1 DAY)) AS d FROM {ident(f'clean_{declaration.fact.dataset}')}) WHERE d IS NOT NULL"
            )
        case Fact():
            return f"WITH {_fact_cte(declaration)} SELECT * EXCLUDE (cents) FROM f"
        case Aggregate():
            columns = ", ".join([*(_key(k) for k in declaration.keys), *(_measure(m) for m in declaration.measures)])
            group = " GROUP BY ALL" if declaration.keys else ""
            return f"WITH {_fact_cte(declaration.fact)} SELECT {columns} FROM f{group}"
        case QualityCounts():
            return " UNION ALL ".join(_data_quality_part(DATASETS[n]) for n in DatasetName)
        case _:
            assert_never(declaration)


def _promise_query(check: IntegrityCheck) -> str:
    """The number of clean rows of the check's dataset that break it, and the smallest offending value."""
    column = ident(check.column)
    match check:
        case ClientExists():
            fails = f"{column} NOT IN (SELECT client_id FROM clean_clients)"
        case ProductExists():
            fails = f"list_position({str_list(check.values)}, {column}) IS NULL"
        case _:
            assert_never(check)
    return f"SELECT count(*), min({column}) FROM {ident(f'clean_{check.dataset}')} WHERE {fails}"


def check_promises(con: duckdb.DuckDBPyConnection) -> None:
    """Raise SilverPromiseBroken for the first integrity check of `twinlake.gold.INTEGRITY_CHECKS` that the
    clean tables (`clean_clients`, `clean_purchases`, `clean_promotions`) break."""
    for check in INTEGRITY_CHECKS:
        row = con.execute(_promise_query(check)).fetchone()
        assert row is not None
        if row[0]:
            raise SilverPromiseBroken(check, int(row[0]), row[1])


def _data_quality_part(dataset: Dataset) -> str:
    rules = rules_for(dataset.name)
    codes = str_list([r.code for r in rules])
    failed = "[" + ", ".join(f"CAST(sum(CAST({_flag(r)} AS INTEGER)) AS BIGINT)" for r in rules) + "]"
    return (
        f"SELECT {lit(dataset.name)} AS dataset, unnest(codes) AS rule, unnest(failed) AS rows_failed, rows_in, "
        f"rows_clean, rows_rejected FROM (SELECT {codes} AS codes, {failed} AS failed, count(*) AS rows_in, "
        "count(*) FILTER (WHERE NOT _rejected) AS rows_clean, count(*) FILTER (WHERE _rejected) AS rows_rejected "
        f"FROM {ident(f'checked_{dataset.name}')})"
    )


def _gold_sql(table: GoldTable, query: str, out_dir: Path) -> str:
    """COPY of `query` with exactly the table's columns, types and sort order."""
    columns = ", ".join(f"CAST({ident(c.name)} AS {duckdb_type(c.type)}) AS {ident(c.name)}" for c in table.columns)
    order = ", ".join(ident(k) for k in table.sort_key)
    path = out_dir / "gold" / f"{table.name}.parquet"
    return f"COPY (SELECT {columns} FROM ({query}) ORDER BY {order}) TO {lit(str(path))} {PARQUET}"


# ---- the run -----------------------------------------------------------------------------------------------


def reference_statements(
    sources: Sequence[Source], out_dir: Path, reference_date: date
) -> dict[str, list[tuple[str, str]]]:
    """Every statement of a run, by layer, each tagged with what it produces (a Gold table's name for COPYs)."""
    layers: dict[str, list[tuple[str, str]]] = {"bronze": [], "silver": [], "gold": []}
    for name in DatasetName:
        dataset = DATASETS[name]
        mine = [s for s in sources if s.dataset == name]
        if not mine:
            raise ValueError(f"no input for dataset {name}")
        layers["bronze"] += [("", s) for s in _bronze_sql(dataset, mine)]
        bronze_file = out_dir / "bronze" / f"{name}.parquet"
        layers["bronze"].append(("", f"COPY {ident(f'bronze_{name}')} TO {lit(str(bronze_file))} {PARQUET}"))
        layers["silver"] += [("", s) for s in _silver_sql(dataset, reference_date, out_dir)]
    layers["gold"] += [("", m) for m in _MACROS]
    layers["gold"] += [
        (t.name, _gold_sql(t, _gold_query(GOLD_DECLARATIONS_BY_NAME[t.name]), out_dir)) for t in GOLD_TABLES
    ]
    return layers


def run_reference(
    sources: Sequence[Source],
    out_dir: Path,
    reference_date: date,
    *,
    threads: int = 2,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> ReferenceResult:
    """Run the whole pipeline in DuckDB, writing `out_dir/{bronze,silver,gold}/*.parquet`; returns the counts.

    Silver is built dataset by dataset in `DatasetName` order, so purchases and promotions see the clean clients.
    """
    for layer in ("bronze", "silver", "gold"):
        (out_dir / layer).mkdir(parents=True, exist_ok=True)
    statements = reference_statements(sources, out_dir, reference_date)
    con = connection or duckdb.connect()
    try:
        con.execute(f"SET threads = {int(threads)}")
        result = ReferenceResult()
        start = mark = time.perf_counter()
        for layer, items in statements.items():
            if layer == "gold":
                check_promises(con)  # a broken Silver promise fails the run, as in the engines
            for produces, sql in items:
                rows = con.execute(sql).fetchall()
                if produces:
                    result.gold_row_counts[produces] = int(rows[0][0])
            now = time.perf_counter()
            result.seconds[layer] = round(now - mark, 3)
            mark = now
        result.seconds["total"] = round(time.perf_counter() - start, 3)
        for name in DatasetName:
            row = con.execute(_counts_sql(DATASETS[name])).fetchone()
            assert row is not None
            rules = rules_for(name)
            result.counts[str(name)] = {
                "rows_in": int(row[0]),
                "rows_clean": int(row[1]),
                "rows_rejected": int(row[2]),
                "rejected_by_rule": {str(r.code): int(n or 0) for r, n in zip(rules, row[3:], strict=True)},
            }
        return result
    finally:
        if connection is None:
            con.close()


# ---- command line ---------------------------------------------------------------------------------------------

app = new_app()


@app.command("duckdb-reference")
def reference(
    data: Annotated[Path, typer.Argument(help="Folder with clients.csv, purchases.csv and promotions.csv.")] = Path(
        "data/generated"
    ),
    out: Annotated[Path, typer.Option("--out", help="Where bronze/, silver/ and gold/ Parquet files go.")] = Path(
        "data/duckdb-reference"
    ),
    reference_date: Annotated[
        str | None, typer.Option("--reference-date", metavar="YYYY-MM-DD", help="The run's today; default today.")
    ] = None,
    threads: Annotated[int, typer.Option("--threads", min=1, help="DuckDB threads.")] = 2,
) -> None:
    """Run the pipeline as DuckDB SQL on landing CSVs: the reference the engines are timed against.

    Writes every Bronze, Silver and Gold table as Parquet into OUT and prints, as JSON, the rows in / clean /
    rejected and per rule of each dataset, the Gold row counts and the seconds per layer.
    """
    from datetime import UTC, datetime

    try:
        day = date.fromisoformat(reference_date) if reference_date else datetime.now(UTC).date()
    except ValueError as exc:
        raise typer.BadParameter(f"{reference_date!r} is not YYYY-MM-DD", param_hint="--reference-date") from exc
    missing = [f"{name}.csv" for name in DatasetName if not (data / f"{name}.csv").is_file()]
    if missing:
        raise UserError(f"{data} has no {', '.join(missing)}", "`twinlake generate --out DATA` writes them")
    sources = [
        Source(name, f"{name}.csv", md5_etag((data / f"{name}.csv").read_bytes()), data / f"{name}.csv")
        for name in DatasetName
    ]
    result = run_reference(sources, out, day, threads=threads)
    document = {"counts": result.counts, "gold_row_counts": result.gold_row_counts, "seconds": result.seconds}
    print(json.dumps(document, indent=2))


if __name__ == "__main__":
    raise SystemExit(run(app, prog_name="python benchmarks/duckdb_reference.py"))
