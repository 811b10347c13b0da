"""Liveness and readiness of a worker, for container probes: `python -m jobs.health --max-age SECONDS`.

The worker touches its heartbeat file (`TWINLAKE_HEARTBEAT_FILE`) after every loop step: a poll, or a whole run.
Ready means the file exists (the worker has completed a step, so it reached the broker and the store); alive means
it was touched within `--max-age` seconds, which must exceed the longest run (`TWINLAKE_MAX_RUN_SECONDS`) since
a run is one step.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def beat(path: Path | None) -> None:
    if path is not None:
        path.touch()


def heartbeat_age(path: Path, now: float | None = None) -> float | None:
    """Seconds since the last beat, or None if the worker never beat."""
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    return (time.time() if now is None else now) - mtime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.health", description=__doc__)
    parser.add_argument("--file", type=Path, required=True, help="the worker's heartbeat file")
    parser.add_argument("--max-age", type=float, help="liveness: fail if the last beat is older (seconds)")
    args = parser.parse_args(argv)
    age = heartbeat_age(args.file)
    if age is None:
        print(f"not ready: no heartbeat at {args.file}")
        return 1
    if args.max_age is not None and age > args.max_age:
        print(f"stuck: last heartbeat {age:.0f} s ago (limit {args.max_age:.0f} s)")
        return 1
    print(f"ok: last heartbeat {age:.1f} s ago")
    return 0


if __name__ == "__main__":
    sys.exit(main())
