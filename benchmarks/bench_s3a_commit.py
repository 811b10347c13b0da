"""Time the Spark engine's kind of Parquet output on the object store with each s3a output committer, alternately.

    .venv/bin/python benchmarks/bench_s3a_commit.py --rows 1000000 --rounds 3      # needs `make stack-up`

The two commit paths of `jobs/spark_engine/session.py`, in one session (the data cached in memory, so only the
writes are timed), paired write by write (the same table written with one committer, then at once with the other,
the order alternating) so that the load of a shared machine falls on both alike:

- `rename`: Spark's default commit protocol with Parquet's FileOutputCommitter (algorithm 2), the engine's
  committer before: task output is written under `_temporary/` and renamed into the table folder, which s3a does
  by copying every object and deleting the original;
- `magic`: the S3A magic committer (the engine's committer now): every file is written once, as a multipart upload
  to its final key that the job commit completes;
- `local`: the same writes to a local folder (file://), what the in-process benchmarks measure: the difference is
  what the object store costs.

Each round writes what a run writes, in kind: the three generated CSVs as Parquet (8 files each), then twelve small
aggregate tables (one file each), under `s3a://<gold>/_bench/commit-<id>/`, deleted at the end. The data is the
benchmark's cache (`data/bench/<rows>-<seed>/`, generated when missing).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from secrets import token_hex
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `twinlake`, `jobs` and `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from jobs.benchmark.data import DEFAULT_SEED, csv_files, ensure_data  # noqa: E402
from jobs.benchmark.sweep import load_average  # noqa: E402
from jobs.spark_engine.session import build_session, s3a_committer_config  # noqa: E402
from twinlake.s3 import s3_client  # noqa: E402
from twinlake.settings import Settings, StoreRole  # noqa: E402
from twinlake.store import S3Store  # noqa: E402

RENAME = {
    "spark.sql.sources.commitProtocolClass": (
        "org.apache.spark.sql.execution.datasources.SQLHadoopMapReduceCommitProtocol"
    ),
    "spark.sql.parquet.output.committer.class": "org.apache.parquet.hadoop.ParquetOutputCommitter",
}
MAGIC = {k: v for k, v in s3a_committer_config().items() if k.startswith("spark.sql.")}
# lane: (fs.s3a.committer.name, the session's commit classes, whether it writes to the object store)
COMMITTERS = {"rename": ("file", RENAME, True), "magic": ("magic", MAGIC, True), "local": ("file", RENAME, False)}
AGGREGATES = ("product", "client_id", "purchase_date", "amount")


def frames(spark: Any, data: Path) -> dict[str, Any]:
    """The three CSVs as all-string frames, 8 partitions each, cached and materialised (not timed)."""
    loaded = {}
    for name, path in csv_files(data).items():
        frame = spark.read.option("header", "true").csv(path.resolve().as_uri()).repartition(8).cache()
        frame.count()
        loaded[str(name)] = frame
    return loaded


def use(spark: Any, committer: str) -> str:
    """Switch the session to a committer; returns the value of `fs.s3a.committer.name` for the write."""
    name, sql, _ = COMMITTERS[committer]
    for key, value in sql.items():
        spark.conf.set(key, value)
    return name


def tables(loaded: dict[str, Any]) -> list[tuple[str, Any]]:
    """The three files as tables, then twelve small aggregates of the purchases."""
    purchases = loaded["purchases"]
    aggregates = [
        (f"aggregate_{i:02d}", purchases.groupBy(AGGREGATES[i % len(AGGREGATES)]).count().coalesce(1))
        for i in range(12)
    ]
    return [*loaded.items(), *aggregates]


def paired_round(spark: Any, loaded: dict[str, Any], target: str, local: Path, shift: int) -> dict[str, float]:
    """Every table written by every lane, one right after the other (the order rotating from table to table);
    seconds per lane."""
    seconds = dict.fromkeys(COMMITTERS, 0.0)
    lanes = list(COMMITTERS)
    for index, (table, frame) in enumerate(tables(loaded)):
        turn = (index + shift) % len(lanes)
        for committer in lanes[turn:] + lanes[:turn]:
            name = use(spark, committer)
            root = target if COMMITTERS[committer][2] else local.resolve().as_uri()
            start = time.perf_counter()
            frame.write.option("fs.s3a.committer.name", name).parquet(f"{root}/{committer}/{table}/")
            seconds[committer] += time.perf_counter() - start
    return seconds


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="rows per file (default 1000000)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed (default 42)")
    p.add_argument("--rounds", type=int, default=3, help="rounds; each writes once with each committer (default 3)")
    p.add_argument("--cache", type=Path, default=ROOT / "data" / "bench", help="where generated data is kept")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.load(role=StoreRole.ENGINES)  # writes like the engine
    store = S3Store(s3_client(settings))
    data = ensure_data(args.rows, args.seed, args.cache)
    spark = build_session(settings, app_name="twinlake-bench-commit")
    prefix = f"_bench/commit-{token_hex(3)}"
    seconds: dict[str, list[float]] = {c: [] for c in COMMITTERS}
    try:
        loaded = frames(spark, data)
        for r in range(args.rounds):
            target = f"s3a://{settings.gold_bucket}/{prefix}/{r}"
            with tempfile.TemporaryDirectory(prefix="twinlake-bench-commit-") as local:
                figures = paired_round(spark, loaded, target, Path(local), r)
            for committer, value in figures.items():
                seconds[committer].append(value)
            load = ", ".join(f"{x:.1f}" for x in load_average())
            print(f"round {r + 1}: " + ", ".join(f"{c} {v:.2f} s" for c, v in figures.items()) + f" (load {load})")
    finally:
        spark.stop()
        store.delete_prefix(settings.gold_bucket, prefix + "/")
    rename, magic, local_disk = (statistics.median(seconds[c]) for c in COMMITTERS)
    print(f"\n3 x {args.rows:,} rows as Parquet + 12 aggregates per round, {args.rounds} round(s), writes paired")
    print(
        f"median: s3a rename committer {rename:.2f} s, s3a magic committer {magic:.2f} s ({magic / rename:.2f}x), "
        f"local disk (file://) {local_disk:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
