# The project's Python image: the Pandas worker, the dashboard, the store init jobs, the producers and the
# benchmark Job.
#   docker build -f docker/python.Dockerfile -t twinlake/python:$(git rev-parse --short HEAD) .
# Runs as the non-root user 10001 (charts/twinlake values podSecurity.pythonUid); the chart sets every command
# (`python -m jobs.pandas_engine`, `python -m dashboard`, `python -m jobs.init_store`, ...) and every TWINLAKE_*
# setting.
#
# Reproducible: the base image is pinned by digest (the multi-arch index of python:3.11-slim, Debian trixie,
# Python 3.11.15), and the Python dependencies are installed from docker/requirements.lock, which pins every
# package, transitive and build ones included, with the hashes of its files (pip --require-hashes refuses anything
# else). `make lock` regenerates the lock after a change of the dependencies in pyproject.toml.
FROM python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/twinlake/src
COPY docker/requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY twinlake ./twinlake
COPY producers ./producers
COPY jobs ./jobs
COPY dashboard ./dashboard
COPY benchmarks ./benchmarks
# The project itself with the dashboard extra (Streamlit, Altair) and the benchmark's (the DuckDB reference lane,
# the plots), without resolving anything: its dependencies and build backend are the locked ones above; the spark
# extra is not installed.
RUN pip install '.[dashboard,bench]' --no-deps --no-build-isolation \
 && rm -rf /opt/twinlake/src \
 && useradd --uid 10001 --user-group --create-home --home-dir /home/twinlake --shell /usr/sbin/nologin twinlake

USER 10001
WORKDIR /home/twinlake
ENV HOME=/home/twinlake
CMD ["python", "-m", "jobs.pandas_engine", "--help"]
