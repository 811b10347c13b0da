"""What the commands print: a rich table on a terminal, CSV or JSON when piped or asked for.

A command builds a `Listing` (columns, rows of plain Python values, a title and notes) and calls `emit`. In a table,
numbers and ids never wrap (only free text such as an error message may); CSV and JSON keep every value whole and
exact (decimals as written, never floats), and the title and notes go to stderr so that stdout parses.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text


class Format(StrEnum):
    AUTO = "auto"
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


FormatOption = Annotated[
    Format,
    typer.Option("--format", "-f", help="auto: a table on a terminal, CSV when piped; or table, csv, json."),
]


def chosen(fmt: Format) -> Format:
    """`auto` made concrete: a table when stdout is a terminal, else CSV."""
    if fmt is Format.AUTO:
        return Format.TABLE if sys.stdout.isatty() else Format.CSV
    return fmt


@dataclass(frozen=True)
class Column:
    name: str
    numeric: bool = False  # right-aligned in a table
    count: bool = False  # a count: thousands separators in a table (never for ids or data values)
    wraps: bool = False  # free text (an error, a description) may wrap in a table; nothing else does


@dataclass
class Listing:
    columns: Sequence[Column]
    rows: Sequence[Sequence[object]]
    title: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def records(self) -> list[dict[str, Any]]:
        """The rows as JSON-ready objects (decimals as exact strings, dates in ISO 8601)."""
        return [{name: json_value(v) for name, v in zip(self.names, row, strict=True)} for row in self.rows]


def plain(value: object) -> str:
    """A value as CSV text: exact decimals, ISO dates, lists joined with `;`, None empty."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ";".join(plain(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def json_value(value: object) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def cell(value: object) -> Text:
    """A table cell: the CSV text, `-` for None; a Text, so brackets in data are never read as markup."""
    if value is None:
        return Text("-", style="dim")
    if isinstance(value, list | tuple):
        return Text(", ".join(plain(v) for v in value))
    return Text(plain(value))


def stdout_console() -> Console:
    """The terminal's width on a terminal; when a table is piped (`--format table`), wide enough for any row."""
    return Console(soft_wrap=False, width=None if sys.stdout.isatty() else 1000)


def stderr_console() -> Console:
    return Console(stderr=True, soft_wrap=True)


def table_of(listing: Listing) -> Table:
    """A rich table; a column that does not wrap is never narrower than its widest value, so a narrow terminal
    wraps the free-text columns (between words) instead of cutting an id or a number."""
    table = Table(
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    cells = [
        [cell(f"{v:,}" if c.count and isinstance(v, int) else v) for c, v in zip(listing.columns, row, strict=True)]
        for row in listing.rows
    ]
    for index, column in enumerate(listing.columns):
        pieces = [t.plain for row in cells for t in row[index].split()]  # lines of the values
        if column.wraps:
            pieces = [word for line in pieces for word in line.split()]  # words: a wrap comes between them
        widest = max((cell_len(p) for p in pieces), default=0)
        table.add_column(
            column.name,
            justify="right" if column.numeric else "left",
            no_wrap=not column.wraps,
            overflow="fold",
            min_width=max(widest, *(cell_len(w) for w in column.name.split())),
        )
    for row in cells:
        table.add_row(*row)
    return table


def emit(listing: Listing, fmt: Format, *, document: object | None = None) -> None:
    """Print a listing; `document` replaces the JSON list of rows when a command has a richer shape to give."""
    fmt = chosen(fmt)
    if fmt is Format.TABLE:
        console = stdout_console()
        if listing.title:  # above the table, not as its title: a title would wrap at the table's width
            console.print(Text(listing.title, style="bold"))
        console.print(table_of(listing))
        for note in listing.notes:
            console.print(Text(note))
        return
    if fmt is Format.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(listing.names)
        writer.writerows([plain(v) for v in row] for row in listing.rows)
    else:
        json.dump(listing.records() if document is None else document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    sys.stdout.flush()
    err = stderr_console()
    for line in ([listing.title] if listing.title else []) + listing.notes:
        err.print(Text(line))
