"""Run manifests and pointers: JSON round trips, validators, and create-only manifest writes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from twinlake.datasets import DatasetName
from twinlake.layout import Buckets, Engine, RunLayout, fingerprint, make_run_id
from twinlake.manifest import (
    DatasetCounts,
    InputObject,
    LatestRunPointer,
    LayerSeconds,
    ManifestExists,
    RunManifest,
    manifest_location,
    read_manifest,
    run_started_at,
    write_manifest,
)
from twinlake.rules import RuleCode
from twinlake.store import LocalStore, NotFound, PreconditionFailed

BUCKETS = Buckets(bronze="bronze", silver="silver", gold="gold")
STARTED = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


def make_manifest(engine: Engine = Engine.PANDAS, started: datetime = STARTED, **overrides: Any) -> RunManifest:
    inputs = [
        InputObject(key="clients.csv", etag='"0123abcd"', size=120, dataset=DatasetName.CLIENTS),
        InputObject(key="purchases/p1.csv", etag="4567ef01", size=300, dataset=DatasetName.PURCHASES),
    ]
    fp = fingerprint((i.key, i.etag) for i in inputs)
    fields: dict[str, Any] = {
        "run_id": make_run_id(started, fp),
        "engine": engine,
        "versions": {"python": "3.11.9", "pandas": "2.3.3", "pyarrow": "22.0.0"},
        "status": "succeeded",
        "inputs": inputs,
        "input_fingerprint": fp,
        "reference_date": date(2026, 11, 26),
        "started_at": started,
        "finished_at": started + timedelta(seconds=42),
        "datasets": {
            DatasetName.CLIENTS: DatasetCounts(
                rows_in=10, rows_clean=8, rows_rejected=2, rejected_by_rule={"invalid_email": 2, "missing_email": 1}
            ),
        },
        "gold_row_counts": {"client_summary": 8},
        "seconds": LayerSeconds(bronze=1.5, silver=2.0, gold=0.5, total=4.0),
        "peak_memory_bytes": 1 << 30,
    }
    fields.update(overrides)
    return RunManifest(**fields)


def test_manifest_round_trips_through_json() -> None:
    manifest = make_manifest()
    data = manifest.to_json()
    assert RunManifest.from_json(data) == manifest
    raw = json.loads(data)
    assert raw["format_version"] == 1
    assert raw["engine"] == "pandas"
    assert raw["started_at"] == "2026-11-26T15:30:00Z"
    assert raw["inputs"][0]["etag"] == "0123abcd"  # quotes stripped
    assert raw["datasets"]["clients"]["rows_rejected"] == 2


def test_failed_manifest_round_trips_with_partial_counts() -> None:
    manifest = make_manifest(status="failed", error="silver: boom", datasets={}, gold_row_counts={}, seconds=None)
    assert RunManifest.from_json(manifest.to_json()) == manifest
    assert not manifest.succeeded


def test_a_failed_run_says_whether_its_input_set_is_retried() -> None:
    infra = make_manifest(status="failed", error="EndpointConnectionError: x", failure="infrastructure")
    assert infra.retryable and RunManifest.from_json(infra.to_json()) == infra
    assert not make_manifest(status="failed", error="clients.csv: empty object", failure="data").retryable
    assert not make_manifest(status="failed", error="written before failure kinds").retryable  # None: data
    with pytest.raises(ValidationError, match="only a failed run"):
        make_manifest(failure="data")


@pytest.mark.parametrize(
    ("status", "error"),
    [("failed", None), ("failed", "  "), ("succeeded", "something broke")],
)
def test_error_is_present_exactly_when_the_run_failed(status: str, error: str | None) -> None:
    with pytest.raises(ValidationError, match="error message"):
        make_manifest(status=status, error=error)


def test_unknown_status_engine_version_or_field_is_rejected() -> None:
    good = json.loads(make_manifest().to_json())
    for field, value in [("status", "running"), ("engine", "polars"), ("format_version", 2), ("extra", 1)]:
        with pytest.raises(ValidationError):
            RunManifest.from_json(json.dumps({**good, field: value}))


def test_datetimes_must_be_aware_and_are_normalised_to_utc() -> None:
    with pytest.raises(ValidationError):
        make_manifest(started_at=datetime(2026, 11, 26, 15, 30))
    paris = timezone(timedelta(hours=1))
    manifest = make_manifest(
        started_at=datetime(2026, 11, 26, 16, 30, tzinfo=paris),
        finished_at=datetime(2026, 11, 26, 16, 31, tzinfo=paris),
    )
    assert manifest.started_at == STARTED
    assert manifest.started_at.tzinfo == UTC


def test_finished_before_started_is_rejected() -> None:
    with pytest.raises(ValidationError, match="before started_at"):
        make_manifest(finished_at=STARTED - timedelta(seconds=1))


def test_fingerprint_and_run_id_must_match_the_inputs() -> None:
    with pytest.raises(ValidationError, match="not the fingerprint of inputs"):
        make_manifest(input_fingerprint="0" * 64)
    with pytest.raises(ValidationError, match="does not end with"):
        make_manifest(run_id="20261126T153000Z-000000")
    with pytest.raises(ValidationError, match="pattern"):
        make_manifest(run_id="not-a-run-id")


def test_counts_must_add_up() -> None:
    assert DatasetCounts(rows_in=5, rows_clean=5, rows_rejected=0, rejected_by_rule={}).rows_in == 5
    with pytest.raises(ValidationError, match="rows_in"):
        DatasetCounts(rows_in=10, rows_clean=8, rows_rejected=1, rejected_by_rule={"invalid_email": 1})
    with pytest.raises(ValidationError, match="exceed rows_rejected"):
        DatasetCounts(rows_in=10, rows_clean=8, rows_rejected=2, rejected_by_rule={"invalid_email": 3})
    with pytest.raises(ValidationError, match="at least one rule"):
        DatasetCounts(rows_in=10, rows_clean=8, rows_rejected=2, rejected_by_rule={"invalid_email": 1})
    with pytest.raises(ValidationError):
        DatasetCounts(rows_in=-1, rows_clean=0, rows_rejected=-1, rejected_by_rule={})


@given(
    clean=st.integers(min_value=0, max_value=10**12),
    rejected=st.integers(min_value=0, max_value=10**12),
    extra=st.integers(min_value=0, max_value=10**12),
)
def test_valid_counts_round_trip(clean: int, rejected: int, extra: int) -> None:
    by_rule = {"missing_name": rejected, "invalid_email": min(extra, rejected)}
    counts = DatasetCounts(rows_in=clean + rejected, rows_clean=clean, rows_rejected=rejected, rejected_by_rule=by_rule)
    assert DatasetCounts.model_validate_json(counts.model_dump_json()) == counts


def test_rule_counts_are_keyed_by_rule_code_and_written_as_its_value() -> None:
    counts = DatasetCounts(rows_in=3, rows_clean=1, rows_rejected=2, rejected_by_rule={"invalid_email": 2})
    assert list(counts.rejected_by_rule) == [RuleCode.INVALID_EMAIL]
    assert json.loads(counts.model_dump_json())["rejected_by_rule"] == {"invalid_email": 2}
    assert DatasetCounts.model_validate_json(counts.model_dump_json()) == counts
    with pytest.raises(ValidationError, match="rejected_by_rule"):
        DatasetCounts(rows_in=3, rows_clean=1, rows_rejected=2, rejected_by_rule={"not_a_rule": 2})


def test_models_are_frozen() -> None:
    manifest = make_manifest()
    with pytest.raises(ValidationError):
        manifest.status = "failed"  # type: ignore[misc]


def test_run_started_at_reads_the_run_id_prefix() -> None:
    assert run_started_at("20261126T153000Z-abcdef") == STARTED
    with pytest.raises(ValueError):
        run_started_at("2026-11-26")


def test_manifest_location_matches_run_layout() -> None:
    manifest = make_manifest(engine=Engine.SPARK)
    layout = RunLayout(BUCKETS, Engine.SPARK, manifest.run_id)
    assert manifest_location("gold", Engine.SPARK, manifest.run_id) == layout.manifest


def test_pointer_for_run_round_trips_and_is_consistent() -> None:
    run_id = make_manifest().run_id
    pointer = LatestRunPointer.for_run("gold", Engine.PANDAS, run_id, STARTED)
    assert pointer.gold_prefix == f"s3://gold/pandas/{run_id}/"
    assert pointer.manifest == RunLayout(BUCKETS, Engine.PANDAS, run_id).manifest.key
    assert pointer.gold_bucket == "gold"
    assert LatestRunPointer.from_json(pointer.to_json()) == pointer
    assert json.loads(pointer.to_json())["generated_at"] == "2026-11-26T15:30:00Z"
    good = json.loads(pointer.to_json())
    for field, value in [
        ("gold_prefix", f"gold/pandas/{run_id}/"),
        ("gold_prefix", f"s3://gold/spark/{run_id}/"),
        ("manifest", f"spark/{run_id}/_manifest.json"),
        ("format_version", 2),
    ]:
        with pytest.raises(ValidationError):
            LatestRunPointer.from_json(json.dumps({**good, field: value}))


def test_write_manifest_is_create_only(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    manifest = make_manifest()
    layout = RunLayout(BUCKETS, manifest.engine, manifest.run_id)
    with pytest.raises(NotFound):
        read_manifest(store, layout.manifest)
    etag = write_manifest(store, layout, manifest)
    assert store.get("gold", layout.manifest.key).etag == etag
    assert read_manifest(store, layout.manifest) == manifest

    changed = make_manifest(gold_row_counts={"client_summary": 9})
    with pytest.raises(ManifestExists) as raised:
        write_manifest(store, layout, changed)
    assert isinstance(raised.value, PreconditionFailed)
    assert read_manifest(store, layout.manifest) == manifest  # untouched


def test_write_manifest_refuses_another_runs_layout(tmp_path: Path) -> None:
    manifest = make_manifest()
    with pytest.raises(ValueError, match="does not belong"):
        write_manifest(LocalStore(tmp_path), RunLayout(BUCKETS, Engine.SPARK, manifest.run_id), manifest)
