"""The fault suite's setting: the stack checked, data generated once, both engines started once for the module and
kept running from case to case (a case that kills one restarts it), a reader polling the pointers throughout; the
bound of each case (`--fault-case-seconds`, registered in tests/conftest.py) applied as its timeout."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import stack_probe
from tests.faults.harness import AS_OF, Harness, write_report

LARGE_ROWS = 120_000  # per file: a Pandas run long enough to be killed in on a busy machine; a Spark run fits a case
SMALL_ROWS = 3_000
REPORT: list[Harness] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every fault case gets the bound as its timeout (the case itself: engine start-up is the session's)."""
    bound = config.getoption("--fault-case-seconds")
    for item in items:
        if item.get_closest_marker("faults") is not None:
            item.add_marker(pytest.mark.timeout(bound, func_only=True))


@pytest.fixture(scope="session")
def case_seconds(pytestconfig: pytest.Config) -> float:
    return float(pytestconfig.getoption("--fault-case-seconds"))


def csv_files(generated: Path) -> dict[str, Path]:
    """The generated CSVs by dataset name."""
    return {path.stem: path for path in generated.glob("*.csv")}


@pytest.fixture(scope="session")
def large(generated_landing: Callable[..., Path]) -> dict[str, Path]:
    return csv_files(generated_landing(LARGE_ROWS, 111, AS_OF, 0.01))


@pytest.fixture(scope="module")  # stopped before other tests run engines on the same stack
def harness(
    tmp_path_factory: pytest.TempPathFactory, case_seconds: float, generated_landing: Callable[..., Path]
) -> Iterator[Harness]:
    settings = stack_probe.stack_settings()
    small = csv_files(generated_landing(SMALL_ROWS, 11, AS_OF, 0.01))
    engines = Harness(settings, tmp_path_factory.mktemp("faults"), small, case_seconds)
    REPORT.append(engines)
    try:
        engines.start()
        yield engines
    finally:
        engines.stop()
        write_report(engines.reports, engines.tmp / "report.json")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The figures of the suite: per case its seconds, faults, uploads, rows lost and runs per engine."""
    for engines in REPORT:
        terminalreporter.section("fault suite")
        for r in engines.reports:
            runs = ", ".join(f"{e} {dict(s)}" for e, s in r.runs.items())
            terminalreporter.write_line(
                f"{r.name}: {r.seconds} s; faults {r.faults or '-'}; {r.uploads} uploads, {r.rows_uploaded} rows, "
                f"lost {r.rows_lost}; runs {runs}; reader checks {r.reader_checks}; {'; '.join(r.notes)}"
            )
        terminalreporter.write_line(
            f"reader: {engines.reader.reads} pointer reads, {engines.reader.unavailable} while the store was down, "
            f"{len(engines.reader.checked)} runs checked complete, violations {engines.reader.violations or 'none'}"
        )
        terminalreporter.write_line(f"logs and report.json: {engines.tmp}")
