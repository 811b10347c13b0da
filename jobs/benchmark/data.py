"""The benchmark's input files: the generator's three CSVs per scale and seed, generated once and cached.

`data/bench/<rows>-<seed>/` holds `clients.csv`, `purchases.csv`, `promotions.csv` and `truth.json`; the deployed
benchmark and the in-process scripts of `benchmarks/` share the cache, so both lanes time the very same files.
The generator's as-of date is fixed (`DEFAULT_AS_OF`): the same arguments give byte-identical files, whatever the
day. Every lane of a drop uses the same reference date (the engines' run date), so the counts they compare agree
whatever the files' as-of.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

from twinlake.datasets import DatasetName

DEFAULT_AS_OF = date(2026, 11, 26)
DEFAULT_SEED = 42


def drop_seed(seed: int, repeat: int) -> int:
    """Each repeat gets files of its own (seed + repeat): an input set an engine already ran is never run again."""
    return seed + repeat


def data_folder(cache: Path, rows: int, seed: int, fault_rate: float | None = None) -> Path:
    name = f"{rows}-{seed}" if fault_rate is None else f"{rows}-{seed}-f{fault_rate}"
    return cache / name


def csv_files(folder: Path) -> dict[DatasetName, Path]:
    """The three landing CSVs of a generated folder, by dataset."""
    return {name: folder / f"{name}.csv" for name in DatasetName}


def is_generated(folder: Path, as_of: date) -> bool:
    truth = folder / "truth.json"
    if not truth.is_file() or not all(p.is_file() for p in csv_files(folder).values()):
        return False
    return bool(json.loads(truth.read_text())["generator"]["as_of"] == as_of.isoformat())


def ensure_data(
    rows: int, seed: int, cache: Path, *, as_of: date = DEFAULT_AS_OF, fault_rate: float | None = None
) -> Path:
    """The folder of generated CSVs for these arguments: generated into `cache` once (`producers.generate` as a
    child process, so its memory is returned at once), reused afterwards."""
    folder = data_folder(cache, rows, seed, fault_rate)
    if is_generated(folder, as_of):
        return folder
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    argv = [sys.executable, "-m", "producers.generate", "--rows", str(rows), "--seed", str(seed)]
    argv += ["--as-of", as_of.isoformat(), "--out", str(tmp)]
    if fault_rate is not None:
        argv += ["--fault-rate", str(fault_rate)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"generating {rows:,} rows (seed {seed}) failed:\n{done.stderr[-2000:]}")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return folder
