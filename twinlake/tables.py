"""Reading the lake's Parquet tables, and the content hash that tells whether two copies of a table are identical.

A table is a folder (prefix) of Parquet parts: one part written by the Pandas engine, several by Spark (with
`_SUCCESS` and other non-Parquet markers beside them, which readers ignore). Readers that show a table to a person
ask for the columns they show and a row limit: parts are then read through ranged GETs (`open_object`), so a row
browser never downloads a whole fact table.

`table_content_hash` is the identity of a Gold table's content, independent of the engine that wrote it, of how it
is split into parts and row groups, and of the order the parts hold the rows in: the rows are put in the table's
sort-key order first (the key is unique, so the order is total). Both engines record it per Gold table in the run's
manifest; `twinlake diff`, the dashboard and the benchmark compare runs with it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from twinlake.gold import GoldTable
from twinlake.layout import Location
from twinlake.store import ObjectInfo, ObjectStore, open_object

PARQUET_SUFFIX = ".parquet"
HASH_VERSION = "twinlake-table-hash/1"
_HASH_BATCH_ROWS = 64 * 1024


class TableNotFound(FileNotFoundError):
    """No Parquet part under a table's prefix: the table was never written (or was deleted)."""


def table_parts(store: ObjectStore, location: Location) -> list[ObjectInfo]:
    """The Parquet parts of a table, in key order; raises `TableNotFound` when there is none."""
    parts = [o for o in store.list(location.bucket, location.key) if o.key.endswith(PARQUET_SUFFIX)]
    if not parts:
        raise TableNotFound(f"no Parquet files under {location.uri()}")
    return parts


def read_table(
    store: ObjectStore,
    location: Location,
    *,
    columns: Sequence[str] | None = None,
    limit: int | None = None,
    where: Callable[[pa.RecordBatch], pa.Array] | None = None,
) -> pa.Table:
    """Read a table (every part, in key order), optionally only `columns`, only the rows `where` keeps, and at
    most `limit` rows.

    Without a projection, a filter or a limit each part is fetched whole (fastest for a full read); with any of
    them, parts are read through ranged GETs, batch by batch, and reading stops once `limit` rows are in. `where`
    gets each batch (of the projected columns) and returns a boolean mask of the rows to keep: a row browser
    filtering a large table holds only the rows it shows.
    """
    parts = table_parts(store, location)
    if columns is None and limit is None and where is None:
        return pa.concat_tables(pq.read_table(io.BytesIO(store.get(location.bucket, p.key).body)) for p in parts)
    wanted = list(columns) if columns is not None else None
    batches: list[pa.RecordBatch] = []
    schema: pa.Schema | None = None
    remaining = limit
    for part in parts:
        with open_object(store, location.bucket, part.key) as handle:
            parquet = pq.ParquetFile(handle)
            schema = (
                parquet.schema_arrow if wanted is None else pa.schema([parquet.schema_arrow.field(c) for c in wanted])
            )
            batch_rows = min(remaining, 65536) if remaining is not None else 65536
            for batch in parquet.iter_batches(batch_size=max(batch_rows, 1), columns=wanted):
                if where is not None:
                    batch = batch.filter(where(batch))
                if remaining is not None:
                    batch = batch.slice(0, remaining)
                    remaining -= batch.num_rows
                batches.append(batch)
                if remaining == 0:
                    break
        if remaining == 0:
            break
    assert schema is not None  # table_parts returned at least one part
    return pa.Table.from_batches(batches, schema=schema)


def count_rows(store: ObjectStore, location: Location) -> int:
    """The table's row count, from the Parquet footers alone."""
    total = 0
    for part in table_parts(store, location):
        with open_object(store, location.bucket, part.key, buffer_size=64 * 1024) as handle:
            total += pq.ParquetFile(handle).metadata.num_rows
    return total


def in_sort_order(table: pa.Table, definition: GoldTable) -> pa.Table:
    """The rows in the table's sort-key order (strings compare by their UTF-8 bytes, as both engines sort)."""
    indices = pc.sort_indices(table, sort_keys=[(key, "ascending") for key in definition.sort_key])
    return table.take(indices)


def table_content_hash(table: pa.Table, definition: GoldTable) -> str:
    """`sha256:<hex>` of the table's column names and types and of its rows as CSV, in sort-key order.

    Raises KeyError when the table lacks a declared column. The CSV text makes the hash independent of parts,
    row groups and chunking; the column types in the header make a type change a content change.
    """
    missing = [name for name in definition.column_names if name not in table.column_names]
    if missing:
        raise KeyError(f"table {definition.name} has no column(s) {', '.join(missing)}")
    ordered = in_sort_order(table.select(list(definition.column_names)), definition)
    digest = hashlib.sha256(f"{HASH_VERSION}\n".encode())
    for field in ordered.schema:
        digest.update(f"{field.name}:{field.type}\n".encode())
    options = pa_csv.WriteOptions(include_header=False)
    for batch in ordered.to_batches(max_chunksize=_HASH_BATCH_ROWS):
        sink = io.BytesIO()
        pa_csv.write_csv(batch, sink, write_options=options)
        digest.update(sink.getvalue())
    return f"sha256:{digest.hexdigest()}"


def stored_table_hash(store: ObjectStore, location: Location, definition: GoldTable) -> str:
    """The content hash of a table as it is in the store (every part read)."""
    return table_content_hash(read_table(store, location), definition)
