"""Bronze for the Spark engine: landing CSV objects become their rows as raw text plus lineage.

The driver fetches every object's bytes through the ObjectStore to run the shared bad-file checks
(`twinlake.inputs`), so a bad file fails exactly as in the Pandas engine. Then, per the CSV contract:

- a file that `reads_line_by_line` (no quoted value spans lines, every quote in its place: nearly every file) is
  read by Spark's CSV reader from its URI (s3a:// in a run, file:// in tests), every such file of a dataset with
  the same header order in ONE read, so a thousand small files are one Spark job, not a thousand;
- any other file (quoted line breaks, stray quotes) is parsed on the driver by the parser of record,
  `twinlake.inputs.read_csv_table` (the Pandas engine's), and handed to Spark as an Arrow table.

Why not Spark's `multiLine` reader for the second kind: it reads each file in one task, and it disagrees with the
parser of record on line ends inside quoted values (it rewrites a quoted CRLF as LF in a CRLF file, fails on
mixed line ends, and with `lineSep` set keeps the CR of a CRLF line end in the last value). Measured choice: see
docs/reliability.md.

Reader options mirror the parser of record: `"` quotes and escapes a quote by doubling it (no backslash escapes),
no whitespace is dropped, values never span lines (such files never reach this reader), an empty field is the
empty string, never null (`nullValue` is a NUL character, which `check_bytes` guarantees never occurs, and a null
Spark still produces for an unquoted empty field becomes ""). A row the reader cannot parse (FAILFAST) fails as
`BadInputFile(key, "malformed CSV: ...")`, naming the file.

`_row_number` is the 1-based record index within the file, as in the Pandas engine. Spark's
`monotonically_increasing_id` is only consecutive within a partition, so every row gets
`(input_file_name, input_file_block_start, monotonically_increasing_id)`; one small aggregation gives, per file
block, its first id and its row count, and the row number is the rows of the file's earlier blocks + position in
block + 1. All three are deterministic functions of the file scan's partitioning, the same in every evaluation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate
from urllib.parse import unquote

import pyarrow as pa
from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.spark_engine.spark_schema import bronze_schema, literal_frame
from twinlake.datasets import ROW_NUMBER, SOURCE_ETAG, SOURCE_KEY, Dataset
from twinlake.inputs import BadInputFile, check_bytes, check_has_rows, header_names, read_csv_table, reads_line_by_line
from twinlake.manifest import InputObject

_FILE, _BLOCK, _ID = "__file", "__block", "__mono"
_NEVER = "\u0000"  # check_bytes refuses NUL bytes, so no field is ever read as null
CSV_OPTIONS: dict[str, str] = {
    "header": "true",
    "enforceSchema": "true",  # the schema IS the validated header, in file order
    "mode": "FAILFAST",
    "sep": ",",
    "quote": '"',
    "escape": '"',
    "multiLine": "false",
    "encoding": "UTF-8",
    "ignoreLeadingWhiteSpace": "false",
    "ignoreTrailingWhiteSpace": "false",
    "nullValue": _NEVER,
    "emptyValue": "",
    "maxCharsPerColumn": "-1",
}


@dataclass(frozen=True)
class LandingFile:
    """One landing object of a run: what it is (pinned by ETag), its bytes, and the URI Spark reads it at."""

    source: InputObject
    body: bytes
    uri: str


def validate_object(dataset: Dataset, source: InputObject, body: bytes) -> tuple[str, ...]:
    """The shared bad-file checks on the object's bytes; returns its header's column names (file order)."""
    check_bytes(source.key, body)
    return header_names(source.key, dataset, body)


def read_bronze(spark: SparkSession, dataset: Dataset, source: InputObject, body: bytes, uri: str) -> DataFrame:
    """One landing object (validated from `body`, read by Spark from `uri`) as Bronze rows with lineage."""
    return read_bronze_files(spark, dataset, [LandingFile(source, body, uri)])


def read_bronze_files(spark: SparkSession, dataset: Dataset, files: list[LandingFile]) -> DataFrame:
    """Every landing object of one dataset as Bronze rows with lineage (see the module doc for who reads what)."""
    by_header: dict[tuple[str, ...], list[LandingFile]] = {}
    parsed: list[pa.Table] = []
    for file in files:
        names = validate_object(dataset, file.source, file.body)
        if reads_line_by_line(file.body):
            by_header.setdefault(names, []).append(file)
        else:
            parsed.append(_with_lineage(read_csv_table(file.source.key, dataset, file.body), file.source))
    frames = [_read_line_by_line(spark, dataset, names, group) for names, group in by_header.items()]
    if parsed:
        frames.append(spark.createDataFrame(pa.concat_tables(parsed), schema=bronze_schema(dataset)))
    return union_all(frames)


def _with_lineage(table: pa.Table, source: InputObject) -> pa.Table:
    rows = table.num_rows
    return (
        table.append_column(SOURCE_KEY, pa.array([source.key] * rows, pa.string()))
        .append_column(SOURCE_ETAG, pa.array([source.etag] * rows, pa.string()))
        .append_column(ROW_NUMBER, pa.array(range(1, rows + 1), pa.int64()))
    )


def _read_line_by_line(
    spark: SparkSession, dataset: Dataset, names: tuple[str, ...], files: list[LandingFile]
) -> DataFrame:
    """Files with the same header order, read by Spark's CSV reader in one scan, with their row numbers."""
    schema = T.StructType([T.StructField(n, T.StringType()) for n in names])
    raw = spark.read.schema(schema).options(**CSV_OPTIONS).csv([_literal(f.uri) for f in files])
    # One file (a large one, usually): no file name on every row, lineage as literals (measured: a fifth faster).
    one = len(files) == 1
    located = raw.select(
        # Spark reads an unquoted empty field as null whatever `nullValue` says; the parser of record as "": so do we.
        *[F.coalesce(F.col(c), F.lit("")).alias(c) for c in dataset.column_names],
        *([] if one else [F.input_file_name().alias(_FILE)]),
        F.input_file_block_start().alias(_BLOCK),
        F.monotonically_increasing_id().alias(_ID),
    )
    try:
        keys = [_BLOCK] if one else [_FILE, _BLOCK]
        blocks = located.groupBy(*keys).agg(F.min(_ID).alias("first"), F.count(F.lit(1)).alias("rows"))
        found = blocks.collect()
    except (Py4JJavaError, PySparkException) as exc:
        raise _malformed(spark, files, names, exc) from None
    by_path = {_path_of(f.uri, encoded=False): f for f in files}
    per_file: dict[str, list[tuple[int, int, int]]] = {f.source.key: [] for f in files}
    reported: dict[str, str] = {}
    for block in found:
        file = files[0] if one else by_path.get(_path_of(block[_FILE]))
        if file is None:
            raise RuntimeError(f"Spark read {block[_FILE]}, which is none of the run's landing objects")
        reported[file.source.key] = file.uri if one else block[_FILE]
        per_file[file.source.key].append((int(block[_BLOCK]), int(block["first"]), int(block["rows"])))
    offsets: list[tuple[str, int, int, int, str, str]] = []
    for file in files:
        parts = sorted(per_file[file.source.key])
        check_has_rows(file.source.key, sum(rows for _, _, rows in parts))
        before = [0, *accumulate(rows for _, _, rows in parts)][:-1]
        name = reported[file.source.key]
        for (start, first, _), base in zip(parts, before, strict=True):
            offsets.append((name, start, first, base, file.source.key, file.source.etag))
    row_number = (F.col("__base") + (F.col(_ID) - F.col("__first")) + F.lit(1)).cast("long").alias(ROW_NUMBER)
    if one:  # lineage as literals, blocks joined on their start only: no string carried through the join
        blocks_only = [(start, first, base) for _, start, first, base, _, _ in offsets]
        numbered = located.join(F.broadcast(literal_frame(spark, blocks_only, _BLOCK_OFFSETS)), [_BLOCK])
        key, etag = F.lit(files[0].source.key), F.lit(files[0].source.etag)
    else:
        numbered = located.join(F.broadcast(literal_frame(spark, offsets, _OFFSETS)), [_FILE, _BLOCK])
        key, etag = F.col("__key"), F.col("__etag")
    return numbered.select(*dataset.column_names, key.alias(SOURCE_KEY), etag.alias(SOURCE_ETAG), row_number)


_BLOCK_OFFSETS = T.StructType(
    [
        T.StructField(_BLOCK, T.LongType()),
        T.StructField("__first", T.LongType()),
        T.StructField("__base", T.LongType()),
    ]
)
_OFFSETS = T.StructType(
    [
        T.StructField(_FILE, T.StringType()),
        T.StructField(_BLOCK, T.LongType()),
        T.StructField("__first", T.LongType()),
        T.StructField("__base", T.LongType()),
        T.StructField("__key", T.StringType()),
        T.StructField("__etag", T.StringType()),
    ]
)


def _literal(uri: str) -> str:
    """A URI Spark reads as exactly that object: glob characters (a key may hold `[`, `*`, ...) escaped."""
    return re.sub(r"([\\\[\]{}*?])", r"\\\1", uri)


def _path_of(uri: str, *, encoded: bool = True) -> str:
    """A URI as a comparable path: without its scheme and leading slashes, decoded if Spark reported it (it
    reports `file:/tmp/a%20b.csv` for the raw `file:///tmp/a b.csv` it was given)."""
    return re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*:/*", "", unquote(uri) if encoded else uri)


def _malformed(
    spark: SparkSession, files: list[LandingFile], names: tuple[str, ...], exc: BaseException
) -> BadInputFile:
    """The `BadInputFile` for a failed scan: the file the error names, else the first that fails on its own."""
    text = str(exc)
    for file in files:
        if _path_of(file.uri, encoded=False) in unquote(text):
            return BadInputFile(file.source.key, f"malformed CSV: {_first_line(exc)}")
    schema = T.StructType([T.StructField(n, T.StringType()) for n in names])
    for file in files:
        try:
            spark.read.schema(schema).options(**CSV_OPTIONS).csv(_literal(file.uri)).count()
        except (Py4JJavaError, PySparkException) as alone:
            return BadInputFile(file.source.key, f"malformed CSV: {_first_line(alone)}")
    return BadInputFile(files[0].source.key, f"malformed CSV: {_first_line(exc)}")


def union_all(frames: list[DataFrame]) -> DataFrame:
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        if "Malformed" in line or "malformed" in line:
            return line.strip()[:300]
    return text.splitlines()[0][:300] if text else type(exc).__name__
