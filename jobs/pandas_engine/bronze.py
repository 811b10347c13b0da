"""Bronze for the Pandas engine: a landing CSV object becomes its rows as raw text plus lineage.

Nothing is trimmed, parsed or dropped here; the object is read by the CSV contract's parser of record
(`twinlake.inputs.read_csv_table`), and a file that cannot be read as its dataset's CSV raises `BadInputFile`
with the reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from twinlake.datasets import ROW_NUMBER, SOURCE_ETAG, SOURCE_KEY, Dataset
from twinlake.inputs import read_csv_table
from twinlake.manifest import InputObject

STRING = pd.ArrowDtype(pa.string())


def read_bronze(dataset: Dataset, source: InputObject, body: bytes) -> pd.DataFrame:
    """Parse one landing object into the dataset's columns (declared order, text) and lineage columns."""
    table = read_csv_table(source.key, dataset, body)
    frame = pd.DataFrame({c: pd.Series(table.column(c).combine_chunks(), dtype=STRING) for c in dataset.column_names})
    frame[SOURCE_KEY] = pd.Series([source.key] * len(frame), dtype=STRING)
    frame[SOURCE_ETAG] = pd.Series([source.etag] * len(frame), dtype=STRING)
    frame[ROW_NUMBER] = pd.Series(np.arange(1, len(frame) + 1, dtype=np.int64), dtype=pd.ArrowDtype(pa.int64()))
    return frame
