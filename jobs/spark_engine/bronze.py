"""Bronze for the Spark engine: a landing CSV object becomes its rows as raw text plus lineage.

The data path is Spark's CSV reader on the object's URI (s3a:// in a run, file:// in tests), with an explicit
all-string schema (no inference). The driver fetches the object's bytes through the ObjectStore only to run
the shared bad-file checks (`twinlake.inputs`), so a bad file fails exactly as in the Pandas engine; a row the
CSV reader cannot parse (FAILFAST) fails as `BadInputFile(key, "malformed CSV: ...")` too.

Reader options mirror pyarrow's in the Pandas engine: `"` quotes and escapes a quote by doubling it (no
backslash escapes), no whitespace is dropped, values never span lines, an empty field is the empty string, never
null (`nullValue` is a NUL character, which `check_bytes` guarantees never occurs, and a null Spark still
produces for an unquoted empty field becomes "").

`_row_number` is the 1-based record index within the file, as in the Pandas engine. Spark's
`monotonically_increasing_id` is only consecutive within a partition, so each file is read on its own and
every row gets `(input_file_block_start, monotonically_increasing_id)`; one small aggregation gives, per file
block, its first id and its row count, and the row number is the rows of earlier blocks + position in block + 1.
Both ids are deterministic functions of the file scan's partitioning, which is the same in every evaluation.
"""

from __future__ import annotations

import csv
from itertools import accumulate

from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.spark_engine.spark_schema import literal_frame
from twinlake.datasets import ROW_NUMBER, SOURCE_ETAG, SOURCE_KEY, Dataset
from twinlake.inputs import BadInputFile, check_bytes, check_has_rows, check_header
from twinlake.manifest import InputObject

_BLOCK, _ID = "__block", "__mono"
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


def validate_object(dataset: Dataset, source: InputObject, body: bytes) -> tuple[str, ...]:
    """The shared bad-file checks on the object's bytes; returns its header's column names (file order)."""
    check_bytes(source.key, body)
    first_line = body.split(b"\n", 1)[0].decode("utf-8")
    header = next(csv.reader([first_line]))
    return check_header(source.key, dataset, header)


def read_bronze(spark: SparkSession, dataset: Dataset, source: InputObject, body: bytes, uri: str) -> DataFrame:
    """One landing object (validated from `body`, read by Spark from `uri`) as Bronze rows with lineage."""
    names = validate_object(dataset, source, body)
    schema = T.StructType([T.StructField(n, T.StringType()) for n in names])
    raw = spark.read.schema(schema).options(**CSV_OPTIONS).csv(uri)
    located = raw.select(
        # Spark reads an unquoted empty field as null whatever `nullValue` says; pyarrow as "": so do we.
        *[F.coalesce(F.col(c), F.lit("")).alias(c) for c in dataset.column_names],
        F.input_file_block_start().alias(_BLOCK),
        F.monotonically_increasing_id().alias(_ID),
    )
    try:
        blocks = (
            located.groupBy(_BLOCK)
            .agg(F.min(_ID).alias("first"), F.count(F.lit(1)).alias("rows"))
            .orderBy(_BLOCK)
            .collect()
        )
    except (Py4JJavaError, PySparkException) as exc:
        raise BadInputFile(source.key, f"malformed CSV: {_first_line(exc)}") from None
    rows = [int(b["rows"]) for b in blocks]
    check_has_rows(source.key, sum(rows))
    before = [0, *accumulate(rows)][:-1]
    offsets = literal_frame(
        spark,
        [(int(b[_BLOCK]), int(b["first"]), base) for b, base in zip(blocks, before, strict=True)],
        T.StructType(
            [
                T.StructField(_BLOCK, T.LongType()),
                T.StructField("__first", T.LongType()),
                T.StructField("__base", T.LongType()),
            ]
        ),
    )
    numbered = located.join(F.broadcast(offsets), _BLOCK)
    return numbered.select(
        *dataset.column_names,
        F.lit(source.key).alias(SOURCE_KEY),
        F.lit(source.etag).alias(SOURCE_ETAG),
        (F.col("__base") + (F.col(_ID) - F.col("__first")) + F.lit(1)).cast("long").alias(ROW_NUMBER),
    )


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
