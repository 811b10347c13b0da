"""Container probes: ready once the worker beat, alive while its beats are recent."""

from __future__ import annotations

import os
import time
from pathlib import Path

from jobs.health import beat, main


def test_not_ready_before_the_first_beat(tmp_path: Path) -> None:
    assert main(["--file", str(tmp_path / "hb")]) == 1


def test_alive_after_a_beat_and_stuck_when_it_is_old(tmp_path: Path) -> None:
    hb = tmp_path / "hb"
    beat(hb)
    assert main(["--file", str(hb), "--max-age", "60"]) == 0
    old = time.time() - 120
    os.utime(hb, (old, old))
    assert main(["--file", str(hb), "--max-age", "60"]) == 1
    assert main(["--file", str(hb)]) == 0  # still ready: readiness does not judge age
