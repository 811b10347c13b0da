"""The shared bad-input and edge-case CSV files: what each engine must make of them (the CSV contract in
`twinlake/inputs.py`). Every file is a clients file; the unit tests hold the Pandas engine to it, the Spark tests
the Spark engine.
"""

from __future__ import annotations

from dataclasses import dataclass

HEADER = b"client_id,name,email,signup_date,country"
COLUMNS = ("client_id", "name", "email", "signup_date", "country")
TAIL = ("a@b.co", "2020-01-01", "France")


def row(client_id: str, name: str, *rest: str) -> tuple[str, ...]:
    return (client_id, name, *(rest or TAIL))


@dataclass(frozen=True)
class EdgeCase:
    """A valid file and the Bronze rows (declared column order, raw text) it must give."""

    body: bytes
    rows: tuple[tuple[str, ...], ...]


def _lines(*lines: bytes, end: bytes = b"\n") -> bytes:
    return end.join((HEADER, *lines)) + end


def _quoted_newlines_across_blocks(rows: int = 60_000) -> EdgeCase:
    """Over 2 MiB: parsers that split a file into blocks at line ends must not split inside a quoted value."""
    body = _lines(*(b'%d,"Line\nbreak %d",a@b.co,2020-01-01,France' % (i, i) for i in range(1, rows + 1)))
    return EdgeCase(body, tuple(row(str(i), f"Line\nbreak {i}") for i in range(1, rows + 1)))


EDGE_CASES: dict[str, EdgeCase] = {
    "utf-8 byte-order mark": EdgeCase(b"\xef\xbb\xbf" + _lines(b"1,Ann,a@b.co,2020-01-01,France"), (row("1", "Ann"),)),
    "CRLF line ends": EdgeCase(
        _lines(b"1,Ann,a@b.co,2020-01-01,France", b"2,Bob,a@b.co,2020-01-01,France", end=b"\r\n"),
        (row("1", "Ann"), row("2", "Bob")),
    ),
    "quoted comma": EdgeCase(_lines(b'1,"Smith, Ann",a@b.co,2020-01-01,France'), (row("1", "Smith, Ann"),)),
    "doubled quotes": EdgeCase(
        _lines(b'1,"Ann ""The Hammer"" Smith",a@b.co,2020-01-01,France', b'2,"""",a@b.co,2020-01-01,France'),
        (row("1", 'Ann "The Hammer" Smith'), row("2", '"')),
    ),
    "quoted LF in an LF file": EdgeCase(
        _lines(b'1,"Ann\nSmith",a@b.co,2020-01-01,France', b"2,Bob,a@b.co,2020-01-01,France"),
        (row("1", "Ann\nSmith"), row("2", "Bob")),
    ),
    "quoted line breaks in a CRLF file (spreadsheet export)": EdgeCase(
        _lines(
            b'1,"Ann\r\nSmith",a@b.co,2020-01-01,France',
            b'2,"Bob\nJones",a@b.co,2020-01-01,France',
            b'3,Cy,a@b.co,2020-01-01,"Fra\r\nnce"',
            end=b"\r\n",
        ),
        (row("1", "Ann\r\nSmith"), row("2", "Bob\nJones"), row("3", "Cy", "a@b.co", "2020-01-01", "Fra\r\nnce")),
    ),
    "quoted line break in the last value of the last line, no final line end": EdgeCase(
        HEADER + b'\n1,Ann,a@b.co,2020-01-01,"Fr\nance"',
        (row("1", "Ann", "a@b.co", "2020-01-01", "Fr\nance"),),
    ),
    "formula-like values kept as text": EdgeCase(
        _lines(
            b'1,"=HYPERLINK(""http://x.io"",""x"")",a@b.co,2020-01-01,France',
            b"2,+1,a@b.co,2020-01-01,France",
            b"3,@SUM(A1:A9),a@b.co,2020-01-01,France",
            b"4,-2+3,a@b.co,2020-01-01,France",
        ),
        (row("1", '=HYPERLINK("http://x.io","x")'), row("2", "+1"), row("3", "@SUM(A1:A9)"), row("4", "-2+3")),
    ),
    "empty lines are skipped": EdgeCase(
        _lines(b"1,Ann,a@b.co,2020-01-01,France", b"", b"2,Bob,a@b.co,2020-01-01,France", b"", end=b"\r\n"),
        (row("1", "Ann"), row("2", "Bob")),
    ),
    "empty and quoted empty fields are empty strings": EdgeCase(
        _lines(b'1,,"",2020-01-01,France'), (row("1", "", "", "2020-01-01", "France"),)
    ),
    "a quote inside an unquoted value is text": EdgeCase(
        _lines(b'1,Ann 5 ft 3",a@b.co,2020-01-01,France', b'2,O"Brien,a@b.co,2020-01-01,France'),
        (row("1", 'Ann 5 ft 3"'), row("2", 'O"Brien')),
    ),
    "columns in another order": EdgeCase(
        b"country,email,name,signup_date,client_id\nFrance,a@b.co,Ann,2020-01-01,1\n", (row("1", "Ann"),)
    ),
    "quoted line breaks across parser blocks (over 2 MiB)": _quoted_newlines_across_blocks(),
}


BAD_FILES: dict[str, tuple[bytes, str]] = {
    "empty object": (b"", "empty object"),
    "header only": (HEADER + b"\n", "header only"),
    "missing column": (
        b"client_id,name,email,country\n1,a,a@b.cd,France\n",
        "missing columns ['signup_date']",
    ),
    "extra column": (
        b"client_id,name,email,signup_date,country,x\n1,a,a@b.cd,2020-01-01,France,1\n",
        "unexpected columns ['x']",
    ),
    "wrong delimiter": (
        b"client_id;name;email;signup_date;country\n1;a;a@b.cd;2020-01-01;France\n",
        "wrong delimiter",
    ),
    "not utf-8": (
        "client_id,name,email,signup_date,country\n1,Zoë,a@b.cd,2020-01-01,France\n".encode("latin-1"),
        "not UTF-8",
    ),
    "binary garbage": (bytes(range(256)) * 8, "binary content"),
    "huge line": (
        HEADER + b"\n1," + b"x" * (2 << 20) + b",a@b.cd,2020-01-01,France\n",
        "over the 1048576 byte limit",
    ),
    "ragged row": (HEADER + b"\n1,a,a@b.cd,2020-01-01,France,extra\n", "malformed CSV"),
    "ragged row after a quoted line break": (
        HEADER + b'\n1,"a\nb",a@b.cd,2020-01-01,France\n2,a,a@b.cd\n',
        "malformed CSV",
    ),
}
