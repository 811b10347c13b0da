"""`twinlake runs`, `show`, `rejects` and `diff` on a lake written by the real Pandas engine (a folder-backed store).

Every command is run through `twinlake.cli.app.main`, as the console script runs it; stdout is captured, so it is
not a terminal and the default output is CSV, which each test parses (and JSON where asked) and checks against
the manifests and tables the engine wrote.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.pandas_engine.run import execute_run
from jobs.runs import RunRequest
from producers.faults import FaultRates
from producers.generate import GeneratorConfig, write
from tests.landing import BUCKETS, LANDING
from tests.rule_cases import REFERENCE_DATE
from twinlake.catalog import Lake, RunRef
from twinlake.cli import lake as lake_commands
from twinlake.cli.app import main
from twinlake.datasets import DatasetName
from twinlake.gold import GOLD_TABLES
from twinlake.inputs import list_landing
from twinlake.layout import Engine
from twinlake.manifest import RunManifest
from twinlake.store import LocalStore
from twinlake.tables import read_table

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


@dataclass
class DemoLake:
    store: LocalStore
    first: RunManifest  # succeeded
    second: RunManifest  # succeeded, same inputs: identical to first
    failed: RunManifest  # a bad file: failed, newest

    @property
    def lake(self) -> Lake:
        return Lake(self.store, BUCKETS)


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> DemoLake:
    """Generated files with every fault kind, two succeeded runs of them, then a failed run (an empty file)."""
    root = tmp_path_factory.mktemp("lake")
    config = GeneratorConfig(rows=400, seed=11, as_of=REFERENCE_DATE, rates=FaultRates.uniform(0.01))
    write(config, root / "generated")
    store = LocalStore(root / "store")
    for name in DatasetName:
        store.put(LANDING, f"{name}.csv", (root / "generated" / f"{name}.csv").read_bytes())

    def run(started: datetime) -> RunManifest:
        request = RunRequest(list_landing(store, LANDING), REFERENCE_DATE, started)
        return execute_run(store, LANDING, BUCKETS, request).manifest

    first = run(T0)
    second = run(T0 + timedelta(minutes=1))
    store.put(LANDING, "clients/empty.csv", b"")
    failed = run(T0 + timedelta(minutes=2))
    assert first.succeeded and second.succeeded and not failed.succeeded
    return DemoLake(store, first, second, failed)


@pytest.fixture(autouse=True)
def reads_the_demo_lake(demo_lake: DemoLake, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(lake_commands, "open_lake", lambda **_: demo_lake.lake)
    yield


def twinlake(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def parsed_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_runs_lists_every_run_newest_first_with_counts_errors_and_pointers(
    demo_lake: DemoLake, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = twinlake(capsys, "runs")
    assert code == 0, err
    rows = parsed_csv(out)
    assert [r["run"] for r in rows] == [demo_lake.failed.run_id, demo_lake.second.run_id, demo_lake.first.run_id]
    failed, second, first = rows
    assert failed["status"] == "failed" and "empty" in failed["error"] and failed["pointers"] == ""
    assert second["pointers"] == "pandas;latest" and first["pointers"] == ""
    counts = demo_lake.second.datasets.values()
    assert int(second["rows_in"]) == sum(c.rows_in for c in counts) == 1200
    assert int(second["rows_rejected"]) == sum(c.rows_rejected for c in counts) > 0
    assert float(second["total_seconds"]) == demo_lake.second.seconds.total  # type: ignore[union-attr]
    assert second["started"] == demo_lake.second.started_at.isoformat()
    assert "3 of 3" in err


def test_runs_as_json_as_a_table_and_per_engine(demo_lake: DemoLake, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = twinlake(capsys, "runs", "--format", "json")
    records = json.loads(out)
    assert code == 0 and [r["run"] for r in records][1:] == [demo_lake.second.run_id, demo_lake.first.run_id]
    assert records[1]["pointers"] == ["pandas", "latest"]
    assert records[0]["error"] == demo_lake.failed.error
    code, out, _ = twinlake(capsys, "runs", "-f", "table")
    second = demo_lake.second
    rows = sum(c.rows_in for c in second.datasets.values())
    assert code == 0 and second.run_id in out and f"{rows:,} / " in out and "pandas latest" in out
    code, out, err = twinlake(capsys, "runs", "--engine", "spark")
    assert code == 0 and parsed_csv(out) == [] and "no run recorded yet" in err


def test_show_lists_the_gold_tables_with_their_rows(demo_lake: DemoLake, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = twinlake(capsys, "show")
    rows = parsed_csv(out)
    assert code == 0, err
    assert [r["table"] for r in rows] == [t.name for t in GOLD_TABLES]
    assert {r["table"]: int(r["rows"]) for r in rows} == demo_lake.second.gold_row_counts
    assert demo_lake.second.run_id in err  # the pointer's run


def test_show_a_table_gives_its_exact_values(demo_lake: DemoLake, capsys: pytest.CaptureFixture[str]) -> None:
    where = demo_lake.lake.layout(RunRef(Engine.PANDAS, demo_lake.second.run_id)).gold("kpi_by_country")
    stored = read_table(demo_lake.store, where).to_pylist()
    code, out, _ = twinlake(capsys, "show", "kpi_by_country", "--limit", "100")
    shown = parsed_csv(out)
    assert code == 0 and len(shown) == len(stored) > 1
    for row, want in zip(shown, stored, strict=True):
        assert row["country"] == want["country"]
        assert Decimal(row["revenue"]) == want["revenue"] and row["revenue"] == f"{want['revenue']:f}"
        assert int(row["orders"]) == want["orders"]
    code, out, _ = twinlake(capsys, "show", "kpi_by_country", "-n", "2", "--format", "json")
    assert code == 0 and json.loads(out) == [
        {k: f"{v:f}" if isinstance(v, Decimal) else v for k, v in row.items()} for row in stored[:2]
    ]


def test_show_of_another_run_and_its_errors(demo_lake: DemoLake, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = twinlake(capsys, "show", "kpi_global", "--run", f"pandas/{demo_lake.first.run_id}")
    assert code == 0 and demo_lake.first.run_id in err and len(parsed_csv(out)) == 1
    code, out, err = twinlake(capsys, "show", "no_such_table")
    assert code == 2 and out == "" and "no Gold table 'no_such_table'" in err and "kpi_global" in err
    code, _, err = twinlake(capsys, "show", "kpi_global", "--run", demo_lake.failed.run_id)
    assert code == 2 and "failed" in err and "no Gold tables" in err and "Traceback" not in err
    code, _, err = twinlake(capsys, "show", "--run", "20990101T000000Z-000000")
    assert code == 2 and "no run 20990101T000000Z-000000" in err and "twinlake runs" in err
    code, _, err = twinlake(capsys, "show", "--run", "yesterday")
    assert code == 2 and "'yesterday' is not a run" in err
    code, _, err = twinlake(capsys, "show", "--engine", "spark")
    assert code == 2 and "the spark engine has no succeeded run yet" in err


def test_rejects_gives_raw_values_lineage_and_every_reason(
    demo_lake: DemoLake, capsys: pytest.CaptureFixture[str]
) -> None:
    counts = demo_lake.second.datasets[DatasetName.PURCHASES]
    code, out, err = twinlake(capsys, "rejects", "purchases", "--limit", "1000")
    rows = parsed_csv(out)
    assert code == 0, err
    assert len(rows) == counts.rows_rejected
    assert list(rows[0]) == [
        "purchase_id", "client_id", "purchase_date", "amount", "product",
        "_source_key", "_source_etag", "_row_number", "_reasons",
    ]  # fmt: skip
    landed = {i.key: i.etag for i in demo_lake.second.inputs}
    assert all(r["_source_key"] == "purchases.csv" and r["_source_etag"] == landed["purchases.csv"] for r in rows)
    assert all(r["_reasons"] for r in rows)
    per_rule: dict[str, int] = {}
    for r in rows:
        for code_ in r["_reasons"].split(";"):
            per_rule[code_] = per_rule.get(code_, 0) + 1
    assert per_rule == {code_: n for code_, n in counts.rejected_by_rule.items() if n}
    landed_rows = list(csv.reader(io.StringIO((demo_lake.store.root / LANDING / "purchases.csv").read_text())))
    for r in rows:  # the raw values are the landed text, field by field
        assert landed_rows[int(r["_row_number"])] == [r[c] for c in landed_rows[0]]


def test_rejects_of_one_rule(demo_lake: DemoLake, capsys: pytest.CaptureFixture[str]) -> None:
    expected = demo_lake.second.datasets[DatasetName.PURCHASES].rejected_by_rule["invalid_amount"]
    code, out, err = twinlake(capsys, "rejects", "purchases", "--rule", "invalid_amount", "-f", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == min(expected, 20) > 0
    assert all("invalid_amount" in r["_reasons"] for r in rows)
    assert f"of {expected}" in err
    code, _, err = twinlake(capsys, "rejects", "purchases", "--rule", "invalid_email")
    assert code == 2 and "purchases has no rule 'invalid_email'" in err and "invalid_amount" in err
    code, _, err = twinlake(capsys, "rejects", "orders")
    assert code == 2 and "'orders' is not one of" in " ".join(err.split())


def test_diff_of_two_runs_of_the_same_inputs_is_identical(
    demo_lake: DemoLake, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = twinlake(capsys, "diff", demo_lake.first.run_id, "pandas")
    rows = parsed_csv(out)
    assert code == 0, err
    tables = [r for r in rows if r["kind"] == "table"]
    assert [r["name"] for r in tables] == [t.name for t in GOLD_TABLES]
    assert all(r["same"] == "yes" and r["A"] == r["B"] for r in rows)
    assert {r["name"]: int(r["A"]) for r in tables} == demo_lake.first.gold_row_counts
    assert "identical: all 15 Gold tables" in err


def test_diff_names_a_table_that_differs(
    demo_lake: DemoLake, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path)  # a copy of the lake, one table of the second run changed by one cent
    for bucket in (LANDING, BUCKETS.bronze, BUCKETS.silver, BUCKETS.gold):
        for info in demo_lake.store.list(bucket):
            store.put(bucket, info.key, demo_lake.store.get(bucket, info.key).body)
    second = demo_lake.second.model_copy(update={"gold_table_hashes": {}})  # hashes computed from the tables
    layout = Lake(store, BUCKETS).layout(RunRef(Engine.PANDAS, second.run_id))
    store.put(BUCKETS.gold, layout.manifest.key, second.to_json())
    where = layout.gold("kpi_by_country")
    table = read_table(store, where)
    revenue = table.column("revenue").to_pylist()
    revenue[0] += Decimal("0.01")
    sink = io.BytesIO()
    pq.write_table(table.set_column(1, "revenue", pa.array(revenue, table.schema.field("revenue").type)), sink)
    store.put(where.bucket, where.key + "part-00000.parquet", sink.getvalue())
    monkeypatch.setattr(lake_commands, "open_lake", lambda **_: Lake(store, BUCKETS))

    code, out, err = twinlake(capsys, "diff", demo_lake.first.run_id, demo_lake.second.run_id, "--format", "json")
    document = json.loads(out)
    assert code == 1
    assert document["identical"] is False and document["same_inputs"] is True
    assert [t["table"] for t in document["tables"] if not t["identical"]] == ["kpi_by_country"]
    assert all(c["equal"] for c in document["counts"])
    assert "DIFFERENT: 1 Gold table(s) (kpi_by_country)" in err


def test_diff_takes_runs_as_ids_engines_or_latest(demo_lake: DemoLake, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = twinlake(capsys, "diff", f"pandas/{demo_lake.second.run_id}", "latest", "-f", "json")
    document = json.loads(out)
    assert code == 0 and document["a"] == document["b"] == f"pandas/{demo_lake.second.run_id}"
    code, _, err = twinlake(capsys, "diff", "sparky/20261126T153000Z-abcdef", "latest")
    assert code == 2 and "'sparky' is not an engine" in err
