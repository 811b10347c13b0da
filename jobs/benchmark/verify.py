"""Verification before any figure counts: the lanes of one drop must agree, or none of its rows is verified.

For the drop's input set: every engine lane has a succeeded run; the engines' Gold tables are identical (the content
hashes their manifests record, `twinlake.compare`) and every count of their manifests is equal (rows in / clean /
rejected per dataset, rows per rule, Gold row counts); and the in-process DuckDB reference, run on the same files,
agrees with each engine on every one of those counts. One disagreement anywhere leaves every row of the drop
unverified, with the reason in the benchmark's problems.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

from jobs.benchmark.lanes import count_problems
from twinlake.benchmarks import BenchmarkRow
from twinlake.compare import GoldHashes, compare_runs
from twinlake.layout import Engine
from twinlake.manifest import RunManifest

if TYPE_CHECKING:
    from benchmarks.duckdb_reference import ReferenceResult


@dataclass(frozen=True)
class Verdict:
    """What a drop's verification found: nothing (verified), or every problem."""

    problems: tuple[str, ...]

    @property
    def verified(self) -> bool:
        return not self.problems

    def apply(self, rows: Iterable[BenchmarkRow]) -> list[BenchmarkRow]:
        """The drop's rows with `verified` set: True on every succeeded lane when nothing was found."""
        return [r.model_copy(update={"verified": self.verified and r.status == "succeeded"}) for r in rows]


def verify_drop(
    hashes: GoldHashes, runs: Mapping[Engine, RunManifest | None], reference: ReferenceResult | None
) -> Verdict:
    """Compare every engine's run of the drop with every other one and with the DuckDB reference."""
    problems: list[str] = []
    for engine, manifest in runs.items():
        if manifest is None:
            problems.append(f"{engine}: no run of the drop's input set")
        elif not manifest.succeeded:
            problems.append(f"{engine}: run {manifest.run_id} failed: {manifest.error}")
    if reference is None:
        problems.append("duckdb: the reference did not run")
    succeeded = [m for m in runs.values() if m is not None and m.succeeded]
    for a, b in combinations(succeeded, 2):
        if a.input_fingerprint != b.input_fingerprint:
            problems.append(f"{a.engine} and {b.engine} ran different input sets")
            continue
        comparison = compare_runs(hashes, a, b)
        problems += [f"gold table {t}: {a.engine} and {b.engine} differ" for t in comparison.differing_tables]
        problems += [f"{c.what}: {a.engine} {c.a} != {b.engine} {c.b}" for c in comparison.counts if not c.equal]
    if reference is not None:
        for manifest in succeeded:
            problems += count_problems(manifest, reference)
    return Verdict(tuple(problems))
