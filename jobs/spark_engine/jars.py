"""The connector jars the Spark engine adds to pyspark: resolved by Maven from Maven Central, cached locally.

`stack/spark-jars/pom.xml` names them (Kafka source, s3a and its committers, without anything pyspark already
ships); Maven's
`dependency:copy-dependencies` copies them into `<cache>/spark-jars-<spark version>/`, and the session passes
their paths as `spark.jars`. Nothing is resolved at session start through Ivy (`spark.jars.packages`).

Where Spark's own `$SPARK_HOME/jars` already holds them (the Spark image bakes them into `/opt/spark/jars`), every
JVM of the application has them on its classpath from the start, so they are passed once, not again as
`spark.jars` (which would make each executor fetch its own copy from the driver; the AWS SDK bundle is ~0.5 GiB).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from twinlake.settings import LocalSettings, cache_dir

SPARK_VERSION = "4.0.1"
REPO_ROOT = Path(__file__).resolve().parents[2]
POM = REPO_ROOT / "stack" / "spark-jars" / "pom.xml"
# Jars that must be there for the engine to reach Kafka and S3 (prefixes of the copied file names).
REQUIRED = (
    "spark-sql-kafka-0-10_2.13-",
    "kafka-clients-",
    "commons-pool2-",
    "hadoop-aws-",
    "bundle-",
    "spark-hadoop-cloud_2.13-",
)
_VERSIONED = re.compile(r"^(?P<name>.+?)-\d+(?:\.\d+)+[\w.+-]*\.jar$")


class JarsError(RuntimeError):
    """The connector jars could not be resolved, or clash with pyspark's own jars."""


def jars_dir(env: Mapping[str, str] | None = None) -> Path:
    """`<cache>/spark-jars-<spark version>`, `<cache>` as `twinlake.settings.cache_dir` says."""
    return cache_dir(env) / f"spark-jars-{SPARK_VERSION}"


def pyspark_jars_dir() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "jars"


def artifact_name(jar: str) -> str:
    """`kafka-clients-3.9.1.jar` -> `kafka-clients` (the name without its version)."""
    found = _VERSIONED.match(jar)
    return found.group("name") if found else jar.removesuffix(".jar")


def duplicates_of_pyspark(jars: list[Path]) -> list[str]:
    """Copied jars whose artifact name is also in pyspark/jars (two versions of one library on a classpath)."""
    ours = {artifact_name(j.name): j.name for j in jars}
    theirs = {artifact_name(j.name) for j in pyspark_jars_dir().glob("*.jar")}
    return sorted(ours[name] for name in ours.keys() & theirs)


def baked_into_spark(env: Mapping[str, str] | None = None) -> bool:
    """True when `$SPARK_HOME/jars` already holds every required connector jar (the Spark image)."""
    spark_home = LocalSettings.load(env).spark_home
    return spark_home is not None and _complete(spark_home / "jars")


def _complete(directory: Path) -> bool:
    names = [p.name for p in directory.glob("*.jar")]
    return all(any(n.startswith(prefix) for n in names) for prefix in REQUIRED)


def fetch_jars(directory: Path | None = None, *, force: bool = False) -> list[Path]:
    """Resolve the connector jars into `directory` (default `jars_dir()`) unless already there; their paths.

    Raises JarsError if Maven fails, a required jar is missing, or a jar duplicates one of pyspark's.
    """
    target = directory or jars_dir()
    if force or not _complete(target):
        mvn = shutil.which("mvn")
        if mvn is None:
            raise JarsError("Maven (mvn) is not on PATH: it resolves the Spark connector jars")
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        command = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={partial}",
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise JarsError(f"mvn failed ({done.returncode}):\n{done.stdout[-4000:]}{done.stderr[-4000:]}")
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
    jars = sorted(target.glob("*.jar"))
    if not _complete(target):
        raise JarsError(f"{target} lacks one of {REQUIRED}: found {[j.name for j in jars]}")
    clash = duplicates_of_pyspark(jars)
    if clash:
        raise JarsError(f"{clash} duplicate jars that pyspark already ships: fix {POM}")
    return jars
