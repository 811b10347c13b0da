"""Resolve the Spark engine's connector jars (Kafka source, s3a) into the cache: `python scripts/fetch_spark_jars.py`.

Prints the jar paths, one a line. `--force` resolves again even if the cache is complete.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jobs.spark_engine.jars import JarsError, fetch_jars


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="resolve again even if the cache is complete")
    parser.add_argument("--out", type=Path, default=None, help="directory (default: the cache)")
    args = parser.parse_args(argv)
    try:
        jars = fetch_jars(args.out, force=args.force)
    except JarsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for jar in jars:
        print(jar)
    return 0


if __name__ == "__main__":
    sys.exit(main())
