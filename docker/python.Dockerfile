# The project's Python image: the Pandas worker, the store init jobs and the producers.
#   docker build -f docker/python.Dockerfile -t twinlake/python:$(git rev-parse --short HEAD) .
# Runs as the non-root user 10001 (charts/twinlake values podSecurity.pythonUid); the chart sets every command
# (`python -m jobs.pandas_engine`, `python -m jobs.init_store`, ...) and every TWINLAKE_* setting.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/twinlake/src
COPY pyproject.toml README.md ./
COPY twinlake ./twinlake
COPY producers ./producers
COPY jobs ./jobs
# A regular (non-editable) install: the runtime dependencies pinned in pyproject.toml, without the spark extra.
RUN pip install . \
 && rm -rf /opt/twinlake/src \
 && useradd --uid 10001 --user-group --create-home --home-dir /home/twinlake --shell /usr/sbin/nologin twinlake

USER 10001
WORKDIR /home/twinlake
ENV HOME=/home/twinlake
CMD ["python", "-m", "jobs.pandas_engine", "--help"]
