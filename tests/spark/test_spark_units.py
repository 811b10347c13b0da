"""Small pieces of the Spark engine: regex anchoring, trimming, ISO calendar, jars and session settings."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import functions as F

from jobs.spark_engine import gold
from jobs.spark_engine.compiler import java_full_match, trim, unique_among_clean
from jobs.spark_engine.jars import REQUIRED, artifact_name, baked_into_spark
from jobs.spark_engine.session import session_config
from twinlake.datasets import DatasetName
from twinlake.rules import EMAIL_PATTERN, POSITIVE_ID_PATTERN, TRIM_CHARACTERS, NotAmongClean
from twinlake.settings import Settings

pytestmark = pytest.mark.spark


def test_patterns_become_full_matches() -> None:
    assert java_full_match("^a$") == "\\A(?:a)\\z"
    with pytest.raises(ValueError):
        java_full_match("a")


def test_rlike_does_not_match_before_a_final_line_terminator(spark: Any) -> None:
    values = ["12", "12\n", "12\u2028", "12\u0085", "x12"]
    rows = spark.createDataFrame([(v,) for v in values], "v string").select(
        "v", F.col("v").rlike(java_full_match(POSITIVE_ID_PATTERN)).alias("m")
    )
    assert {r["v"]: r["m"] for r in rows.collect()} == {v: v == "12" for v in values}
    assert re.fullmatch(EMAIL_PATTERN.strip("^$"), "a@b.c")


def test_trim_removes_exactly_the_shared_characters(spark: Any) -> None:
    raw = TRIM_CHARACTERS + "\u00a0a b\u2028" + TRIM_CHARACTERS
    got = spark.createDataFrame([(raw,), (None,)], "v string").select(trim(F.col("v")).alias("t")).collect()
    assert [r["t"] for r in got] == [raw.strip(TRIM_CHARACTERS), ""]


def test_trim_agrees_with_python_strip_on_edge_cases(spark: Any) -> None:
    values = ["", " ", TRIM_CHARACTERS, "\r\na\x0b", "é\t", "\t€", "\u00a0x\u0085", "a \t b", "\x0c\x0c\U0001f600 \x0b"]
    frame = spark.createDataFrame([(v,) for v in values], "v string").select("v", trim(F.col("v")).alias("t"))
    assert {r["v"]: r["t"] for r in frame.collect()} == {v: v.strip(TRIM_CHARACTERS) for v in values}


def test_iso_calendar_matches_python(spark: Any) -> None:
    days = [date(2020, 12, 25) + timedelta(days=i) for i in range(0, 1600, 3)]
    frame = spark.createDataFrame([(d,) for d in days], "d date").select(
        "d",
        gold.iso_year(F.col("d")).alias("y"),
        F.weekofyear("d").alias("w"),
        gold.iso_day_of_week(F.col("d")).alias("dow"),
    )
    for row in frame.collect():
        assert (row["y"], row["w"], row["dow"]) == tuple(row["d"].isocalendar())


def test_half_up_average_on_integers(spark: Any) -> None:
    frame = spark.createDataFrame([(5, 2), (4, 3), (0, 0), (7, 2), (10**17, 3)], "s long, n long")
    got = [r[0] for r in frame.select(gold.half_up_average("s", "n")).collect()]
    assert got == [3, 1, 0, 4, (2 * 10**17 + 3) // 6]


def test_session_config_is_explicit() -> None:
    config = session_config(None, "local[2]", with_jars=False)
    assert config["spark.sql.ansi.enabled"] == "true"
    assert config["spark.sql.session.timeZone"] == "UTC"
    assert config["spark.master"] == "local[2]"
    assert "spark.jars.packages" not in config


def test_s3a_output_is_committed_by_the_magic_committer() -> None:
    settings = Settings.model_validate({"s3_access_key": "k", "s3_secret_key": "s"})
    config = session_config(settings, "local[2]")
    assert config["spark.hadoop.fs.s3a.committer.name"] == "magic"
    assert config["spark.sql.sources.commitProtocolClass"].endswith(".cloud.PathOutputCommitProtocol")
    assert config["spark.sql.parquet.output.committer.class"].endswith(".cloud.BindingParquetOutputCommitter")
    assert config["spark.hadoop.mapreduce.outputcommitter.factory.scheme.s3a"].endswith("S3ACommitterFactory")
    assert any("spark-hadoop-cloud_2.13-4.0.1.jar" in jar for jar in config["spark.jars"].split(","))
    # without the connector jars (or without a store) the committer's classes are not there: Hadoop's default
    assert "spark.sql.sources.commitProtocolClass" not in session_config(settings, "local[2]", with_jars=False)
    assert "spark.sql.sources.commitProtocolClass" not in session_config(None, "local[2]", with_jars=False)


def test_artifact_names() -> None:
    assert artifact_name("kafka-clients-3.9.1.jar") == "kafka-clients"
    assert artifact_name("spark-sql-kafka-0-10_2.13-4.0.1.jar") == "spark-sql-kafka-0-10_2.13"
    assert artifact_name("wildfly-openssl-1.1.3.Final.jar") == "wildfly-openssl"


def test_clean_ids_are_unique_only_where_a_repeated_id_rule_says_so() -> None:
    assert unique_among_clean(NotAmongClean("client_id", DatasetName.CLIENTS, "client_id"))
    assert not unique_among_clean(NotAmongClean("client_id", DatasetName.CLIENTS, "email"))


def test_connector_jars_baked_into_spark_are_not_passed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jars = tmp_path / "spark" / "jars"
    jars.mkdir(parents=True)
    monkeypatch.setenv("SPARK_HOME", str(tmp_path / "spark"))
    for prefix in REQUIRED[:-1]:
        (jars / f"{prefix}1.0.jar").touch()
    assert not baked_into_spark()  # one required jar still missing: the session must pass them
    (jars / f"{REQUIRED[-1]}2.24.6.jar").touch()
    assert baked_into_spark()
    assert "spark.jars" not in session_config(None, "local[1]")  # on the classpath already: passed once
