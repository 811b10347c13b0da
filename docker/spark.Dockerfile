# The Spark engine's image for the Kubeflow spark-operator (driver and executors).
#   docker build -f docker/spark.Dockerfile -t twinlake/spark:$(git rev-parse --short HEAD) .
#
# Stage 1 resolves the connector jars (Kafka source, s3a) named in stack/spark-jars/pom.xml with Maven; they are
# copied into /opt/spark/jars, so they are on the driver's and the executors' classpath from JVM start: no
# package coordinates resolved by Spark, no Ivy, nothing downloaded when the application starts, and the session
# does not pass them again as spark.jars (jobs/spark_engine/jars.py sees them in $SPARK_HOME/jars), so executors
# never fetch copies from the driver.
# Stage 2: Spark 4.0.1's python3 image (Ubuntu 22.04, Java 17, whose python3 is 3.10), the Docker Official Image
# `spark` built from Apache Spark's own spark-docker Dockerfiles, plus Python 3.11 (the project needs >= 3.11) in a
# venv at APP_ROOT/venv with the project and its locked dependencies; pyspark itself is the image's own
# (/opt/spark/python), so the `spark` extra is not installed. The sources are also kept at APP_ROOT, where the
# SparkApplication's mainApplicationFile points (local://APP_ROOT/jobs/spark_engine/__main__.py).
# Both base images are pinned by the digest of their multi-arch index; the Python dependencies come from
# docker/requirements.lock with their hashes (pip --require-hashes).
FROM maven:3.9-eclipse-temurin-17@sha256:42a3ac393abbc64dae6c96703e5ead2e921fe9103371ac58b5b404b0d6a26502 AS jars
WORKDIR /build
COPY stack/spark-jars/pom.xml pom.xml
RUN mvn -q -B -f pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=/build/jars \
 && ls /build/jars > /build/jar-names.txt \
 && test -s /build/jar-names.txt

FROM spark:4.0.1-python3@sha256:10d82ec4a2ddb2ab04e895b183ef3d8bfa81c1e15966afd70a02a47a653e18b4
ARG APP_ROOT=/opt/twinlake
USER root
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends python3.11 python3.11-venv; \
    rm -rf /var/lib/apt/lists/*

COPY --from=jars /build/jars/ /opt/spark/jars/
COPY --from=jars /build/jar-names.txt /opt/spark/twinlake-connector-jars.txt

COPY docker/requirements.lock ${APP_ROOT}/requirements.lock
RUN set -eux; \
    python3.11 -m venv "${APP_ROOT}/venv"; \
    "${APP_ROOT}/venv/bin/pip" install --no-cache-dir --disable-pip-version-check --require-hashes --no-deps \
      -r "${APP_ROOT}/requirements.lock"
COPY pyproject.toml README.md ${APP_ROOT}/
COPY twinlake ${APP_ROOT}/twinlake
COPY producers ${APP_ROOT}/producers
COPY jobs ${APP_ROOT}/jobs
RUN set -eux; \
    "${APP_ROOT}/venv/bin/pip" install --no-cache-dir --disable-pip-version-check --no-deps --no-build-isolation \
      "${APP_ROOT}"; \
    rm -rf "${APP_ROOT}/build" "${APP_ROOT}"/*.egg-info

ENV PYSPARK_PYTHON=${APP_ROOT}/venv/bin/python \
    PYSPARK_DRIVER_PYTHON=${APP_ROOT}/venv/bin/python \
    PYTHONUNBUFFERED=1

# The image's non-root spark user (uid 185); the entrypoint stays the image's /opt/entrypoint.sh.
USER 185
