"""The SparkSession of the Spark engine: local by default, s3a pointed at the store, small and deterministic.

Decisions (each one deliberate):
- Master: `local[*]` unless `TWINLAKE_SPARK_MASTER` or the `master` argument says otherwise.
- Connector jars come from `jobs.spark_engine.jars` (Maven, cached) as `spark.jars`, unless Spark's own jars folder
  already has them (the Spark image): then they are on every classpath and passed once. Never Ivy.
- ANSI mode is ON (`spark.sql.ansi.enabled=true`, Spark 4's default, set explicitly): an overflow or an invalid
  cast is an error, never a silent null. The compiler therefore only parses values that passed their pattern
  check, and uses the `try_` forms (`try_cast`, `try_to_date`) where a value can still be invalid (a calendar
  date like 2026-02-30), so nothing throws on bad data while a real bug still does.
- Time zone UTC (`spark.sql.session.timeZone`, and the JVM's), so dates never shift.
- `spark.sql.shuffle.partitions` 8: the data is small; hundreds of tiny tasks would only cost time.
- s3a: endpoint, path-style access, static credentials and region from `twinlake.settings.Settings`; TLS off
  when the endpoint is `http://`.
- Output to s3a is committed by the S3A "magic" committer (`s3a_committer_config`): every Parquet file is written
  once, as a multipart upload to its final key that the job commit completes; no copy-and-rename commit.
"""

from __future__ import annotations

from typing import Any

from jobs.spark_engine.jars import baked_into_spark, fetch_jars
from twinlake.settings import LocalSettings, Settings

DEFAULT_MASTER = "local[*]"
SHUFFLE_PARTITIONS = 8
DRIVER_MEMORY = "2g"


def s3a_options(settings: Settings) -> dict[str, str]:
    """Hadoop s3a options (without the `spark.hadoop.` prefix) that reach the store described by `settings`."""
    endpoint = settings.s3_endpoint
    return {
        "fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "fs.s3a.endpoint": endpoint,
        "fs.s3a.endpoint.region": settings.s3_region,
        "fs.s3a.path.style.access": "true",
        "fs.s3a.connection.ssl.enabled": "false" if endpoint.startswith("http://") else "true",
        "fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        "fs.s3a.access.key": settings.s3_access_key.get_secret_value(),
        "fs.s3a.secret.key": settings.s3_secret_key.get_secret_value(),
        # Small local store: fail fast instead of retrying for minutes when it is down.
        "fs.s3a.attempts.maximum": "3",
        "fs.s3a.retry.limit": "3",
        "fs.s3a.connection.establish.timeout": "5s",
        "fs.s3a.connection.timeout": "30s",
        # The store's ETags are plain MD5s; do not require S3 version ids.
        "fs.s3a.change.detection.mode": "none",
        # No `_SUCCESS` marker: readers take a table's Parquet parts, and only the manifest makes a run visible.
        "mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
    }


def s3a_committer_config() -> dict[str, str]:
    """Spark configuration that commits s3a output with the S3A magic committer (Hadoop's `committers.md`).

    The classic FileOutputCommitter commits by renaming, which s3a emulates by copying every object and deleting
    the original: each Parquet file was written twice. The magic committer writes each file once: a task's stream
    to `<table>/__magic_job-<id>/...` becomes a multipart upload to the final key, left uncompleted; task commit
    records the pending uploads, job commit completes them (and aborts any other pending upload under the table).
    The store needs multipart uploads (versitygw, MinIO and S3 have them) and nothing else.
    `PathOutputCommitProtocol` and `BindingParquetOutputCommitter` come from Spark's `spark-hadoop-cloud` module
    (a connector jar, `stack/spark-jars/pom.xml`); other filesystems (file://) keep Hadoop's default committer.
    """
    return {
        "spark.sql.sources.commitProtocolClass": "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol",
        "spark.sql.parquet.output.committer.class": (
            "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter"
        ),
        "spark.hadoop.mapreduce.outputcommitter.factory.scheme.s3a": (
            "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory"
        ),
        "spark.hadoop.fs.s3a.committer.name": "magic",
        "spark.hadoop.fs.s3a.committer.magic.enabled": "true",
        # A task keeps its pending uploads in memory until it commits, instead of a `.pending` object per file.
        "spark.hadoop.fs.s3a.committer.magic.track.commits.in.memory.enabled": "true",
    }


def session_config(settings: Settings | None, master: str | None = None, *, with_jars: bool = True) -> dict[str, str]:
    """Every Spark configuration value the engine sets (pure: tests inspect it)."""
    local = LocalSettings.load()
    config = {
        "spark.master": master or local.spark_master or DEFAULT_MASTER,
        "spark.sql.ansi.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.sql.shuffle.partitions": str(SHUFFLE_PARTITIONS),
        "spark.default.parallelism": str(SHUFFLE_PARTITIONS),
        "spark.driver.memory": DRIVER_MEMORY if local.spark_driver_memory is None else local.spark_driver_memory,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.parquet.compression.codec": "zstd",
        # Parquet decimals in the standard (non-legacy) form, as pyarrow writes and reads them.
        "spark.sql.parquet.writeLegacyFormat": "false",
        "spark.sql.streaming.stopGracefullyOnShutdown": "true",
        # Parse every CSV column even when a query reads few: a malformed row must fail every read (FAILFAST).
        "spark.sql.csv.parser.columnPruning.enabled": "false",
        # Task outputs move straight to the table folder at task commit (one rename instead of two, which on
        # s3a is one copy instead of two). A failed run can leave partial files: harmless, since only the
        # manifest, written last, makes a run's tables visible.
        "spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version": "2",
    }
    if with_jars and not baked_into_spark():
        config["spark.jars"] = ",".join(str(j) for j in fetch_jars())
    if settings is not None:
        config.update({f"spark.hadoop.{k}": v for k, v in s3a_options(settings).items()})
        if with_jars:  # the commit protocol's classes are in a connector jar
            config.update(s3a_committer_config())
    return config


def build_session(
    settings: Settings | None = None,
    master: str | None = None,
    app_name: str = "twinlake-spark",
    *,
    with_jars: bool = True,
    extra: dict[str, str] | None = None,
) -> Any:
    """Get or create the engine's SparkSession (`settings=None`: no s3a, e.g. tests on local files)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    for key, value in {**session_config(settings, master, with_jars=with_jars), **(extra or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(LocalSettings.load().spark_log_level)
    return spark
