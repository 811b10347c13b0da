"""Whether two runs agree: Gold table by Gold table (content hashes) and count by count (manifests).

The tool behind `twinlake diff`, the dashboard's engine page and the benchmark's verification. Two runs agree when
every Gold table has the same content hash and the manifests' counts are equal: rows in / clean / rejected per
dataset, rows per rule, and Gold row counts. A manifest written before hashes were recorded gets its hashes
computed from the stored tables, once per run (`GoldHashes` caches them: a run never changes).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from twinlake.catalog import Lake, RunRef
from twinlake.gold import GOLD_TABLES
from twinlake.manifest import RunManifest
from twinlake.tables import TableNotFound, stored_table_hash


def run_ref(manifest: RunManifest) -> RunRef:
    return RunRef(manifest.engine, manifest.run_id)


@dataclass
class GoldHashes:
    """Content hash of every Gold table of a run: the manifest's, else computed from the store and cached."""

    lake: Lake
    _computed: dict[RunRef, dict[str, str | None]] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def of(self, manifest: RunManifest) -> dict[str, str | None]:
        """`{table: hash}` for every Gold table; None for a table the run does not have (a failed run)."""
        recorded = manifest.gold_table_hashes
        if all(t.name in recorded for t in GOLD_TABLES):
            return {t.name: recorded[t.name] for t in GOLD_TABLES}
        run = run_ref(manifest)
        with self._lock:
            cached = self._computed.get(run)
        if cached is not None:
            return cached
        layout = self.lake.layout(run)
        hashes: dict[str, str | None] = {}
        for table in GOLD_TABLES:
            if table.name in recorded:
                hashes[table.name] = recorded[table.name]
                continue
            try:
                hashes[table.name] = stored_table_hash(self.lake.store, layout.gold(table.name), table)
            except TableNotFound:
                hashes[table.name] = None
        with self._lock:
            self._computed[run] = hashes
        return hashes


@dataclass(frozen=True)
class TableComparison:
    """One Gold table in two runs."""

    table: str
    hash_a: str | None
    hash_b: str | None
    rows_a: int | None
    rows_b: int | None

    @property
    def identical(self) -> bool:
        return self.hash_a is not None and self.hash_a == self.hash_b


@dataclass(frozen=True)
class CountComparison:
    """One count in two runs' manifests, e.g. `purchases rows_clean` or `purchases invalid_amount`."""

    what: str
    a: int | None
    b: int | None

    @property
    def equal(self) -> bool:
        return self.a == self.b


@dataclass(frozen=True)
class RunComparison:
    """Two runs side by side: every Gold table and every count."""

    a: RunManifest
    b: RunManifest
    tables: tuple[TableComparison, ...]
    counts: tuple[CountComparison, ...]

    @property
    def differing_tables(self) -> list[str]:
        return [t.table for t in self.tables if not t.identical]

    @property
    def differing_counts(self) -> list[str]:
        return [c.what for c in self.counts if not c.equal]

    @property
    def same_inputs(self) -> bool:
        return self.a.input_fingerprint == self.b.input_fingerprint

    @property
    def identical(self) -> bool:
        """Every Gold table identical and every count equal."""
        return not self.differing_tables and not self.differing_counts


def manifest_counts(manifest: RunManifest) -> dict[str, int]:
    """Every count a manifest records, by a readable name: `<dataset> <total>`, `<dataset> <rule>`, `gold <table>`."""
    counts: dict[str, int] = {}
    for dataset, c in sorted(manifest.datasets.items()):
        counts[f"{dataset} rows_in"] = c.rows_in
        counts[f"{dataset} rows_clean"] = c.rows_clean
        counts[f"{dataset} rows_rejected"] = c.rows_rejected
        for rule, n in sorted(c.rejected_by_rule.items()):
            counts[f"{dataset} {rule}"] = n
    for table, n in sorted(manifest.gold_row_counts.items()):
        counts[f"gold {table}"] = n
    return counts


def compare_runs(hashes: GoldHashes, a: RunManifest, b: RunManifest) -> RunComparison:
    """Compare two runs' Gold tables by content hash and their manifests' counts (a rule missing on one side
    counts 0 there, as `data_quality` does)."""
    hashes_a, hashes_b = hashes.of(a), hashes.of(b)
    tables = tuple(
        TableComparison(
            t.name, hashes_a[t.name], hashes_b[t.name], a.gold_row_counts.get(t.name), b.gold_row_counts.get(t.name)
        )
        for t in GOLD_TABLES
    )
    counts_a, counts_b = manifest_counts(a), manifest_counts(b)
    names = sorted(set(counts_a) | set(counts_b))

    def count(counts: dict[str, int], name: str, manifest: RunManifest) -> int | None:
        if name in counts:
            return counts[name]
        dataset = name.split(" ", 1)[0]
        is_rule = not name.startswith("gold ") and not name.endswith(("rows_in", "rows_clean", "rows_rejected"))
        return 0 if is_rule and any(str(d) == dataset for d in manifest.datasets) else None

    return RunComparison(
        a=a,
        b=b,
        tables=tables,
        counts=tuple(CountComparison(n, count(counts_a, n, a), count(counts_b, n, b)) for n in names),
    )
