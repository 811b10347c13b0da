"""How the Spark engine should read a CSV file whose quoted values hold line breaks: measured, not guessed.

Ways to make one landing file Bronze (read, number the rows, add lineage, write Parquet) on the same generated
clients file, interleaved and repeated, in one Spark session:

- `line reader`: Spark's CSV reader line by line (`multiLine=false`), the engine's path for files without quoted
  line breaks; the reference of the ratios;
- `multiLine, same file`: the same file through Spark's reader with `multiLine=true` (one task per file): what
  reading every file that way would cost;
- `multiLine, line breaks` and `parser of record, line breaks`: the file with quoted line breaks through Spark's
  `multiLine` reader, and through `twinlake.inputs.read_csv_table` on the driver handed to Spark as Arrow (the
  engine's path for such files).

    .venv/bin/python benchmarks/bench_csv_multiline.py --rows 1000000 --repeats 3

The file is the generator's clients file; for the last two ways every 1000th name is rewritten as a quoted
two-line value (a line reader cannot read those). Figures and the choice: docs/reliability.md.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobs.spark_engine import bronze
from jobs.spark_engine.session import build_session
from twinlake.datasets import DATASETS, DatasetName
from twinlake.manifest import InputObject

REPO = Path(__file__).resolve().parents[1]
CLIENTS = DATASETS[DatasetName.CLIENTS]


def with_line_breaks(body: bytes, every: int = 1000) -> bytes:
    """Every `every`-th data line gets its name (second field) as a quoted value holding a line break."""
    lines = body.split(b"\n")
    for i in range(1, len(lines), every):
        fields = lines[i].split(b",")
        if len(fields) == 5:
            fields[1] = b'"' + fields[1].replace(b'"', b'""') + b'\nsecond line"'
            lines[i] = b",".join(fields)
    return b"\n".join(lines)


def source_of(path: Path) -> bronze.LandingFile:
    body = path.read_bytes()
    etag = hashlib.md5(body).hexdigest()
    source = InputObject(key=f"clients/{path.name}", etag=etag, size=len(body), dataset=DatasetName.CLIENTS)
    return bronze.LandingFile(source, body, f"file://{path.resolve()}")


def timed(write: Callable[[Path], None], out: Path) -> float:
    started = time.perf_counter()
    write(out)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-multiline-"))
    generate = [sys.executable, "-m", "producers.generate", "--rows", str(args.rows), "--seed", "3"]
    subprocess.run([*generate, "--out", str(work)], check=True, capture_output=True, cwd=REPO)
    plain = work / "clients.csv"
    broken = work / "clients-with-line-breaks.csv"
    broken.write_bytes(with_line_breaks(plain.read_bytes()))
    spark: Any = build_session(None, args.master, "bench-multiline", with_jars=False)
    plain_file, broken_file = source_of(plain), source_of(broken)

    names = CLIENTS.column_names
    multiline_options = {**bronze.CSV_OPTIONS, "multiLine": "true", "lineSep": "\n"}

    def spark_reader(file: bronze.LandingFile, options: dict[str, str]) -> Callable[[Path], None]:
        """Bronze (rows numbered, lineage) by Spark's CSV reader with these options, as the engine does it."""

        def write(out: Path) -> None:
            saved = dict(bronze.CSV_OPTIONS)
            bronze.CSV_OPTIONS.update(options)
            try:
                bronze._read_line_by_line(spark, CLIENTS, names, [file]).write.parquet(str(out))
            finally:
                bronze.CSV_OPTIONS.clear()
                bronze.CSV_OPTIONS.update(saved)

        return write

    def parser_of_record(out: Path) -> None:
        bronze.read_bronze_files(spark, CLIENTS, [broken_file]).write.parquet(str(out))

    ways = {
        "line reader": spark_reader(plain_file, {}),
        "multiLine, same file": spark_reader(plain_file, multiline_options),
        "multiLine, line breaks": spark_reader(broken_file, multiline_options),
        "parser of record, line breaks": parser_of_record,
    }
    for name, write in ways.items():  # warm-up: JIT, file cache
        timed(write, work / f"warm-{name}")
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    for repeat in range(args.repeats):
        for name, write in ways.items():
            seconds[name].append(timed(write, work / f"{repeat}-{name}"))
    reference = statistics.median(seconds["line reader"])
    print(f"{args.rows} rows, {plain.stat().st_size / 1e6:.0f} MB, master {args.master}, {args.repeats} repeats")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(
            f"  {name:<30} median {median:6.2f} s  ({median / reference:4.2f}x)  runs {[round(v, 2) for v in values]}"
        )
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
