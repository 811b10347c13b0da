# The Spark engine's image for the Kubeflow spark-operator (driver and executors).
#   docker build -f docker/spark.Dockerfile -t twinlake/spark:$(git rev-parse --short HEAD) .
#
# Stage 1 resolves the connector jars (Kafka source, s3a) named in stack/spark-jars/pom.xml with Maven; they are
# copied into /opt/spark/jars, so they are on the driver's and the executors' classpath from JVM start: no
# package coordinates resolved by Spark, no Ivy, nothing downloaded when the application starts.
# Stage 2: apache/spark:4.0.1-python3 (Ubuntu 22.04, whose python3 is 3.10) plus Python 3.11 (the project needs
# >= 3.11) in a venv at APP_ROOT/venv with the project and its pinned dependencies; pyspark itself is the image's
# own (/opt/spark/python), so the `spark` extra is not installed. The sources are also kept at APP_ROOT, where the
# SparkApplication's mainApplicationFile points (local://APP_ROOT/jobs/spark_engine/__main__.py).
FROM maven:3.9-eclipse-temurin-17 AS jars
WORKDIR /build
COPY stack/spark-jars/pom.xml pom.xml
RUN mvn -q -B -f pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=/build/jars \
 && ls /build/jars > /build/jar-names.txt \
 && test -s /build/jar-names.txt

FROM apache/spark:4.0.1-python3
ARG APP_ROOT=/opt/twinlake
USER root
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends python3.11 python3.11-venv; \
    rm -rf /var/lib/apt/lists/*

COPY --from=jars /build/jars/ /opt/spark/jars/
COPY --from=jars /build/jar-names.txt /opt/spark/twinlake-connector-jars.txt
# The engine's session passes the connector jars it finds in $TWINLAKE_CACHE_DIR/spark-jars-4.0.1 as spark.jars
# (jobs/spark_engine/jars.py; Maven runs only if they are missing): point it at the baked jars, without copies.
RUN set -eux; \
    mkdir -p "${APP_ROOT}/cache/spark-jars-4.0.1"; \
    while read -r jar; do ln -s "/opt/spark/jars/${jar}" "${APP_ROOT}/cache/spark-jars-4.0.1/${jar}"; done \
      < /opt/spark/twinlake-connector-jars.txt

COPY pyproject.toml README.md ${APP_ROOT}/
COPY twinlake ${APP_ROOT}/twinlake
COPY producers ${APP_ROOT}/producers
COPY jobs ${APP_ROOT}/jobs
RUN set -eux; \
    python3.11 -m venv "${APP_ROOT}/venv"; \
    "${APP_ROOT}/venv/bin/pip" install --no-cache-dir --disable-pip-version-check "${APP_ROOT}"; \
    rm -rf "${APP_ROOT}/build" "${APP_ROOT}"/*.egg-info

ENV TWINLAKE_CACHE_DIR=${APP_ROOT}/cache \
    PYSPARK_PYTHON=${APP_ROOT}/venv/bin/python \
    PYSPARK_DRIVER_PYTHON=${APP_ROOT}/venv/bin/python \
    PYTHONUNBUFFERED=1

# The image's non-root spark user (uid 185); the entrypoint stays the image's /opt/entrypoint.sh.
USER 185
