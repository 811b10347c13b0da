"""What makes a landing file acceptable at all, before any row is validated.

A file that breaks one of these checks fails its run with a reason naming the file (the pointer does not move);
a file that passes them can only lose rows to Silver rules, and never silently.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from twinlake.datasets import Dataset, DatasetName
from twinlake.layout import dataset_for_key, fingerprint
from twinlake.manifest import InputObject
from twinlake.store import ObjectStore

# Longest accepted line (a data row or the header); longer means a corrupt or non-CSV object.
MAX_LINE_BYTES = 1 << 20
_OTHER_DELIMITERS = (";", "\t", "|")


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
