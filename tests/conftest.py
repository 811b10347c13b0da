"""Options and fixtures of the whole test session (here, at the root of the tests, so that `pytest` takes them
anywhere)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# The bound of every fault case. Cases end as soon as both pointers settle (about 5 minutes for the suite on 2 quiet
# cores); the bound only stops a hung case. Spark takes ~40 s for a run over 1000 tiny objects on a busy machine, and
# case 5 may need two such runs, so the bound leaves room for that.
FAULT_CASE_SECONDS = 240


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fault-case-seconds",
        type=float,
        default=FAULT_CASE_SECONDS,
        help=f"bound of each fault case (tests/faults) in seconds, default {FAULT_CASE_SECONDS}; raise it on a "
        "machine shared with other work",
    )


@pytest.fixture(scope="session")
def generated_landing(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """The generator's files (`python -m producers.generate`, as users run it) for the given arguments: a folder
    with the three CSVs and truth.json, generated once per session for each set of arguments. Read it, never
    write into it: another test may get the same folder."""
    made: dict[tuple[int, int, date, float | None], Path] = {}

    def generate(rows: int, seed: int, as_of: date, fault_rate: float | None = None) -> Path:
        key = (rows, seed, as_of, fault_rate)
        if key not in made:
            out = tmp_path_factory.mktemp(f"generated-{rows}-{seed}")
            command = [sys.executable, "-m", "producers.generate", "--rows", str(rows), "--seed", str(seed)]
            command += ["--as-of", as_of.isoformat(), "--out", str(out)]
            command += [] if fault_rate is None else ["--fault-rate", str(fault_rate)]
            subprocess.run(command, check=True, capture_output=True, cwd=REPO)
            made[key] = out
        return made[key]

    return generate
