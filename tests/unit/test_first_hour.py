"""A newcomer's first hour: each expected mistake ends in a line or two naming what and where, the next step, and
the documented exit code (2), never a traceback (unless `--debug`). Real programs, run as a user runs them, against
ports where nothing listens; none of these needs the local stack."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TWINLAKE = str(Path(sys.executable).parent / "twinlake")
NEXT_STEP = "make stack-up"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def nothing_up(tmp_path: Path) -> dict[str, str]:
    """An environment whose store and broker are ports where nothing listens, with keys, and no env file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWINLAKE_")}
    env.update(
        TWINLAKE_ENV_FILE=os.devnull,
        TWINLAKE_STATE_DIR=str(tmp_path / "state"),
        TWINLAKE_S3_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        TWINLAKE_S3_ACCESS_KEY="key",
        TWINLAKE_S3_SECRET_KEY="secret",
        TWINLAKE_KAFKA_BOOTSTRAP=f"127.0.0.1:{free_port()}",
        COLUMNS="200",
    )
    return env


@pytest.fixture
def csv_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "clients.csv").write_text("client_id,name,email,signup_date,country\n")
    return folder


def run(argv: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env=env, timeout=timeout)


def short_and_clear(done: subprocess.CompletedProcess[str], *names: str) -> list[str]:
    """Exit code 2, no traceback, at most three lines on stderr naming each of `names` and the next step."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "Error:" not in done.stdout
    assert len(lines) <= 3, done.stderr
    for name in (*names, NEXT_STEP):
        assert name in done.stderr, f"{name!r} not in:\n{done.stderr}"
    return lines


def test_upload_with_the_store_down(nothing_up: dict[str, str], csv_folder: Path) -> None:
    endpoint = nothing_up["TWINLAKE_S3_ENDPOINT"]
    done = run([TWINLAKE, "upload", str(csv_folder)], nothing_up)
    lines = short_and_clear(
        done, f"cannot reach the S3 store at {endpoint} (connection refused)", "TWINLAKE_S3_ENDPOINT"
    )
    assert lines[0].startswith("error: ") and done.stdout == ""
    same = run([sys.executable, "-m", "producers.upload", str(csv_folder)], nothing_up)
    assert same.returncode == 2 and same.stderr == done.stderr
    debug = run([TWINLAKE, "upload", str(csv_folder), "--debug"], nothing_up)
    assert debug.returncode == 2 and "Traceback" in debug.stderr and "twinlake.reach.Unavailable" in debug.stderr


def test_the_pandas_engine_with_nothing_up(nothing_up: dict[str, str]) -> None:
    done = run([sys.executable, "-m", "jobs.pandas_engine"], nothing_up)
    short_and_clear(
        done,
        f"cannot reach the S3 store at {nothing_up['TWINLAKE_S3_ENDPOINT']}",
        f"cannot reach Kafka at {nothing_up['TWINLAKE_KAFKA_BOOTSTRAP']} (connection refused)",
    )
    assert "kafka" not in done.stdout.lower()  # no client library log lines either


def test_the_spark_engine_checks_before_starting_spark(nothing_up: dict[str, str]) -> None:
    done = run([TWINLAKE, "engine", "spark"], nothing_up)
    short_and_clear(done, "cannot reach the S3 store", "cannot reach Kafka", "TWINLAKE_KAFKA_BOOTSTRAP")
    assert "session ready" not in done.stdout + done.stderr and "Spark" not in done.stdout
    as_main_file = run([sys.executable, str(REPO / "jobs" / "spark_engine" / "__main__.py")], nothing_up)
    assert as_main_file.returncode == 2 and as_main_file.stderr == done.stderr


def test_reading_the_lake_with_the_store_down(nothing_up: dict[str, str]) -> None:
    for command in (["runs"], ["show", "kpi_global"], ["rejects", "clients"], ["diff", "pandas", "spark"]):
        done = run([TWINLAKE, *command], nothing_up)
        short_and_clear(done, "cannot reach the S3 store at")


def test_no_settings_at_all(nothing_up: dict[str, str]) -> None:
    env = {k: v for k, v in nothing_up.items() if not k.endswith(("_ACCESS_KEY", "_SECRET_KEY"))}
    done = run([TWINLAKE, "runs"], env)
    short_and_clear(done, "TWINLAKE_S3_ACCESS_KEY", "TWINLAKE_S3_SECRET_KEY")


@pytest.mark.parametrize(
    ("rows", "message"), [("abc", "'abc' is not a valid integer"), ("0", "0 is not in the range x>=1")]
)
def test_demo_checks_its_options_before_starting_anything(nothing_up: dict[str, str], rows: str, message: str) -> None:
    done = run([TWINLAKE, "demo", "--rows", rows], nothing_up)
    assert done.returncode == 2 and message in " ".join(done.stderr.split()) and "Traceback" not in done.stderr
    assert not Path(nothing_up["TWINLAKE_STATE_DIR"]).exists()  # the stack was never started


def test_make_demo_with_bad_rows_stops_before_the_stack(nothing_up: dict[str, str]) -> None:
    done = run(["make", "-s", "demo", "ROWS=abc"], nothing_up)
    assert done.returncode != 0 and "'abc' is not a valid integer" in " ".join(done.stderr.split())
    assert "stack up" not in done.stdout and not Path(nothing_up["TWINLAKE_STATE_DIR"]).exists()


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_stack_up_checks_every_port_before_starting_anything(nothing_up: dict[str, str], taken_port: int) -> None:
    env = {
        **nothing_up,
        "TWINLAKE_KAFKA_PORT": str(free_port()),
        "TWINLAKE_KAFKA_CONTROLLER_PORT": str(free_port()),
        "TWINLAKE_S3_PORT": str(taken_port),
    }
    done = run([TWINLAKE, "stack", "up"], env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"S3 port {taken_port} is already taken" in done.stderr and "set TWINLAKE_S3_PORT" in done.stderr
    state = Path(env["TWINLAKE_STATE_DIR"])
    assert not (state / "run" / "kafka.pid").exists() and not (state / "stack.env").exists()  # nothing started
    assert not (state / "logs").exists()

    both = {**env, "TWINLAKE_KAFKA_PORT": str(taken_port), "TWINLAKE_KAFKA_CONTROLLER_PORT": str(taken_port)}
    done = run([TWINLAKE, "stack", "up"], both)
    assert done.returncode == 2 and "two components on one port" in done.stderr
    assert all(f"set {name} to a free port" in done.stderr for name in ("TWINLAKE_KAFKA_PORT", "TWINLAKE_S3_PORT"))
