"""What makes a landing file acceptable at all, before any row is validated, and how its CSV is read.

A file that breaks one of these checks fails its run with a reason naming the file (the pointer does not move);
a file that passes them can only lose rows to Silver rules, and never silently.

The CSV contract (RFC 4180, as users' exporters write it): UTF-8, an optional byte-order mark, a header line,
fields separated by `,`, records ending with LF or CRLF. A field may be quoted with `"`; inside quotes a doubled
quote `""` is one quote, and commas and line breaks (LF or CRLF, kept exactly as written) belong to the value. A
quote inside an unquoted value is kept as text. `read_csv_table` is the parser of record; the Pandas engine reads
every file with it. The Spark engine reads a file with Spark's line-by-line CSV reader only when `reads_line_by_line`
says the result is the same (no value spans lines, every quote opens or closes a value or doubles a quote), and
any other file with `read_csv_table` on the driver: both engines give the same rows for every file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv

from twinlake.datasets import Dataset, DatasetName
from twinlake.layout import dataset_for_key, fingerprint
from twinlake.manifest import InputObject
from twinlake.store import ObjectStore

# Longest accepted line (a data row or the header); longer means a corrupt or non-CSV object.
MAX_LINE_BYTES = 1 << 20
_OTHER_DELIMITERS = (";", "\t", "|")
_QUOTE, _COMMA, _LF, _CR = (ord(c) for c in '",\n\r')
_BOM = b"\xef\xbb\xbf"
_FEW_PAIRS = 10_000


class BadInputFile(ValueError):
    """A landing object that cannot be read as its dataset's CSV; the run that meets it fails."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


def check_bytes(key: str, body: bytes) -> None:
    """Reject empty, non-UTF-8, binary and over-long-line objects with a reason."""
    if not body.strip():
        raise BadInputFile(key, "empty object")
    nul = body.find(b"\0")
    if nul >= 0:
        raise BadInputFile(key, f"binary content: NUL byte at offset {nul}")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInputFile(key, f"not UTF-8: invalid byte at offset {exc.start}") from None
    newlines = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == ord("\n"))
    bounds = np.concatenate([[-1], newlines, [len(body)]])
    lengths = np.diff(bounds) - 1
    longest = int(lengths.argmax())
    if lengths[longest] > MAX_LINE_BYTES:
        raise BadInputFile(
            key, f"line {longest + 1} is {int(lengths[longest])} bytes, over the {MAX_LINE_BYTES} byte limit"
        )


def check_header(key: str, dataset: Dataset, header: Sequence[str]) -> tuple[str, ...]:
    """Validate a header against the dataset's columns (any order); returns the cleaned names.

    Names are compared after stripping whitespace and a UTF-8 byte-order mark; the set must match exactly.
    """
    names = tuple(h.strip().lstrip("\ufeff").strip() for h in header)
    expected = dataset.column_names
    if len(names) == 1 and any(d in names[0] for d in _OTHER_DELIMITERS):
        used = next(d for d in _OTHER_DELIMITERS if d in names[0])
        raise BadInputFile(key, f"wrong delimiter: the header is separated by {used!r}, expected ','")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise BadInputFile(key, f"repeated columns {repeated}")
    missing = [c for c in expected if c not in names]
    extra = [n for n in names if n not in expected]
    if missing or extra:
        parts = [
            f"missing columns {missing}" if missing else "",
            f"unexpected columns {extra}" if extra else "",
        ]
        reason = "; ".join(p for p in parts if p)
        raise BadInputFile(key, f"{reason} (expected {list(expected)})")
    return names


def check_has_rows(key: str, rows: int) -> None:
    if rows == 0:
        raise BadInputFile(key, "header only: no data rows")


def header_names(key: str, dataset: Dataset, body: bytes) -> tuple[str, ...]:
    """The validated column names of the file's header line, in file order (`check_bytes` first)."""
    first_line = body.split(b"\n", 1)[0].decode("utf-8")
    return check_header(key, dataset, next(csv.reader([first_line])))


def read_csv_table(key: str, dataset: Dataset, body: bytes) -> pa.Table:
    """The parser of record: every check, then the rows as text in the dataset's declared column order.

    Empty lines are skipped, no whitespace is dropped, an empty field is the empty string (never null).
    """
    check_bytes(key, body)
    names = header_names(key, dataset, body)
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(column_names=list(names), skip_rows=1, block_size=2 * MAX_LINE_BYTES + 1),
            # Quoted values may hold line breaks (RFC 4180): the reader then splits blocks only between records.
            parse_options=pacsv.ParseOptions(delimiter=",", newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise BadInputFile(key, f"malformed CSV: {str(exc).splitlines()[0]}") from None
    check_has_rows(key, table.num_rows)
    return table.select(list(dataset.column_names))


def reads_line_by_line(body: bytes) -> bool:
    """True if a line-by-line CSV reader gives exactly `read_csv_table`'s rows for this (checked) file.

    That holds when the quotes follow RFC 4180 and no quoted value spans lines: every line (ended by LF, CR or
    CRLF) has an even number of quotes, every quoted value opens right after a delimiter or a line start and
    closes right before one, and every other quote inside it is doubled. A file with a quote elsewhere
    (`5 ft 3"`, `"a"b`, `""x`) is read differently by different readers, so it goes to the parser of record, as
    does a file with a quoted line break.
    """
    data = np.frombuffer(body, dtype=np.uint8)
    quotes = np.flatnonzero(data == _QUOTE)
    if quotes.size == 0:
        return True
    if quotes.size % 2 or _a_pair_spans_lines(body, data, quotes):
        return False
    return _quoted_values_well_formed(data, quotes, start=len(_BOM) if body.startswith(_BOM) else 0)


def _a_pair_spans_lines(body: bytes, data: npt.NDArray[np.uint8], quotes: npt.NDArray[np.intp]) -> bool:
    """Whether some line has an odd number of quotes: the same as a line end (LF or CR, where a line reader ends a
    line) between the 1st and 2nd quote, the 3rd and 4th, ... of the file (given an even count)."""
    opens, closes = quotes[0::2], quotes[1::2]
    if opens.size <= _FEW_PAIRS:  # the usual case: a few quoted values, looked at one by one (no pass over the file)
        return any(
            body.find(b"\n", a, b) >= 0 or body.find(b"\r", a, b) >= 0
            for a, b in zip(opens.tolist(), closes.tolist(), strict=True)
        )
    line_ends = np.flatnonzero((data == _LF) | (data == _CR))
    return bool((np.searchsorted(line_ends, opens) != np.searchsorted(line_ends, closes)).any())


def _quoted_values_well_formed(data: npt.NDArray[np.uint8], quotes: npt.NDArray[np.intp], start: int) -> bool:
    """Quotes as RFC 4180 has them, given that no line leaves a value open.

    Quotes come in runs of k adjacent ones; whether a run starts inside a quoted value is the parity of the quotes
    before it. A run starting outside must start a value (a delimiter or line start before it); a run that leaves
    the value closed (starting outside with k even, `""` an empty value; or inside with k odd, doubled quotes then
    the closing one) must end the value (a delimiter or line end after it). Runs of even length inside a value
    are doubled quotes.
    """
    boundary = np.array([_COMMA, _LF, _CR], dtype=np.uint8)
    breaks = np.flatnonzero(np.diff(quotes) > 1)
    firsts = np.concatenate([[0], breaks + 1])
    lasts = np.concatenate([breaks, [quotes.size - 1]])
    length = lasts - firsts + 1
    inside = firsts % 2 == 1  # quotes before the run: odd means a value is open
    closed_after = inside == (length % 2 == 1)
    begin, end = quotes[firsts], quotes[lasts]
    # The file's start (after a byte-order mark) and its end count as line ends.
    after_boundary = (begin <= start) | np.isin(data[np.maximum(begin - 1, 0)], boundary)
    before_boundary = (end >= data.size - 1) | np.isin(data[np.minimum(end + 1, data.size - 1)], boundary)
    return bool(((inside | after_boundary) & (~closed_after | before_boundary)).all())


def list_landing(store: ObjectStore, landing_bucket: str) -> tuple[InputObject, ...]:
    """The current input set: every landing object that maps to a dataset, sorted by key."""
    found = []
    for info in store.list(landing_bucket):
        dataset = dataset_for_key(info.key)
        if dataset is not None:
            found.append(InputObject(key=info.key, etag=info.etag, size=info.size, dataset=dataset))
    return tuple(sorted(found, key=lambda o: o.key))


def missing_datasets(inputs: Sequence[InputObject]) -> list[DatasetName]:
    """Datasets with no object yet: a run starts only when this is empty."""
    present = {i.dataset for i in inputs}
    return [d for d in DatasetName if d not in present]


def input_fingerprint(inputs: Sequence[InputObject]) -> str:
    return fingerprint((i.key, i.etag) for i in inputs)
