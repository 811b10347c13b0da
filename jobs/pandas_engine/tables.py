"""Parquet tables in the object store for the Pandas engine: a table is a folder (prefix) of Parquet files."""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from twinlake.layout import Location
from twinlake.store import ObjectStore

Result = TypeVar("Result")

# One file per table is plenty at this scale; the name leaves room for more parts (`part-00001`, ...).
PART_NAME = "part-00000.parquet"


def write_table(store: ObjectStore, location: Location, table: pa.Table) -> int:
    """Write `table` as one Parquet part under the `location` prefix; returns the bytes written."""
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    body = sink.getvalue()
    store.put(location.bucket, location.key + PART_NAME, body)
    return len(body)


class TableWriter:
    """Writes tables on background threads while the run computes the next layer.

    Encoding Parquet releases the GIL, so the writes of one layer overlap the next layer's work. `wait()` returns
    only when every write landed and re-raises the first failure, so a manifest never names a missing table.
    """

    def __init__(self, store: ObjectStore, workers: int = 2) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parquet-writer")
        self._pending: list[Future[int]] = []

    def write(self, location: Location, table: pa.Table) -> None:
        self._pending.append(self._pool.submit(write_table, self.store, location, table))

    def submit(self, work: Callable[..., Result], *args: object) -> Future[Result]:
        """Run other work that releases the GIL (e.g. hashing a table) beside the writes."""
        return self._pool.submit(work, *args)

    def wait(self) -> int:
        """Block until every submitted write is done; returns the bytes written."""
        written = sum(f.result() for f in self._pending)
        self._pending.clear()
        return written

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
