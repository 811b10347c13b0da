"""Bronze for the Pandas engine: a landing CSV object becomes its rows as raw text plus lineage.

Nothing is trimmed, parsed or dropped here; a file that cannot be read as its dataset's CSV raises
`BadInputFile` with the reason (see `twinlake.inputs`).
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from twinlake.datasets import ROW_NUMBER, SOURCE_ETAG, SOURCE_KEY, Dataset
from twinlake.inputs import MAX_LINE_BYTES, BadInputFile, check_bytes, check_has_rows, check_header
from twinlake.manifest import InputObject

STRING = pd.ArrowDtype(pa.string())


def read_bronze(dataset: Dataset, source: InputObject, body: bytes) -> pd.DataFrame:
    """Parse one landing object into the dataset's columns (declared order, text) and lineage columns."""
    check_bytes(source.key, body)
    first_line = body.split(b"\n", 1)[0].decode("utf-8")
    header = next(csv.reader([first_line]))
    names = check_header(source.key, dataset, header)
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(column_names=list(names), skip_rows=1, block_size=2 * MAX_LINE_BYTES + 1),
            parse_options=pacsv.ParseOptions(delimiter=",", newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise BadInputFile(source.key, f"malformed CSV: {str(exc).splitlines()[0]}") from None
    check_has_rows(source.key, table.num_rows)
    frame = pd.DataFrame({c: pd.Series(table.column(c).combine_chunks(), dtype=STRING) for c in dataset.column_names})
    frame[SOURCE_KEY] = pd.Series([source.key] * len(frame), dtype=STRING)
    frame[SOURCE_ETAG] = pd.Series([source.etag] * len(frame), dtype=STRING)
    frame[ROW_NUMBER] = pd.Series(np.arange(1, len(frame) + 1, dtype=np.int64), dtype=pd.ArrowDtype(pa.int64()))
    return frame
