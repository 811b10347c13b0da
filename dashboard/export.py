"""CSV downloads that a spreadsheet opens as text: a value that looks like a formula is written as text.

The lake holds what users uploaded (a client may be named `=HYPERLINK("http://…")`). Spreadsheets evaluate a cell
that starts with `=`, `+`, `-`, `@`, a tab or a carriage return, so such a cell is written with a leading `'`
(OWASP's advice for CSV injection), unless it is a plain number such as `-1.5`. The grid's own CSV export does not
do this, so the app turns it off (`client.disableDataExport`) and offers these downloads instead.
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def defuse(cell: str) -> str:
    """`'=1+2` for `=1+2`; numbers and other text unchanged."""
    if cell.startswith(FORMULA_START) and not _NUMBER.match(cell):
        return "'" + cell
    return cell


def defuse_csv(data: bytes) -> bytes:
    """The same CSV (UTF-8) with every cell defused."""
    rows = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([defuse(cell) for cell in row] for row in rows)
    return out.getvalue().encode("utf-8")


def frame_csv(frame: pd.DataFrame) -> bytes:
    """A frame as a defused CSV (no index)."""
    return defuse_csv(frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))
