# The reference MovieLens API server (`movielens-api serve`) as a container image.
#
#   docker build -t movielens-api .                                   # public python:3.11-slim
#   docker/build-wheelhouse.sh && docker build --build-arg BASE_IMAGE=movielens-base:bookworm \
#       --build-arg WHEELS_ONLY=1 -t movielens-api .                   # offline (see .ci/run)
#
# The image holds the server distribution (server/) only: NOT apache-airflow. BASE_IMAGE needs
# python3 (3.11+: tomllib) with venv. With WHEELS_ONLY=1 pip installs only from docker/wheelhouse/
# (filled by docker/build-wheelhouse.sh) and never contacts an index. Dependencies are installed
# before the sources are copied, so editing the code rebuilds only the last, cheap layer.
#
# The server binds HOST (default 127.0.0.1, for host networking as in docker-compose.test.yml);
# on a bridge network with a published port run it with -e HOST=0.0.0.0. Credentials: API_USER /
# API_PASSWORD; fault injection: MOVIELENS_FAULT_* (see server/movielens_api/faults.py); live mode:
# MOVIELENS_LIVE_START / MOVIELENS_LIVE_SPEED (see server/README.md).
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
ARG WHEELS_ONLY=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
COPY server/pyproject.toml /src/
COPY docker/wheelhouse/ /wheelhouse/
RUN set -eu; \
    if [ -n "$WHEELS_ONLY" ]; then set -- --no-index --find-links /wheelhouse; fi; \
    python3 -m venv /opt/movielens; \
    python3 -c 'import sys, tomllib; print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))' \
        /src/pyproject.toml > /tmp/server-requirements.txt; \
    /opt/movielens/bin/pip install "$@" -r /tmp/server-requirements.txt
COPY server/README.md server/LICENSE /src/
COPY server/movielens_api/ /src/movielens_api/
RUN set -eu; \
    if [ -n "$WHEELS_ONLY" ]; then set -- --no-index --find-links /wheelhouse; fi; \
    /opt/movielens/bin/pip install "$@" --no-deps /src; \
    /opt/movielens/bin/pip uninstall -y pip; \
    if /opt/movielens/bin/python -c 'import airflow' 2>/dev/null; then echo "airflow must not be in the image" >&2; exit 1; fi; \
    /opt/movielens/bin/movielens-api --help > /dev/null

FROM ${BASE_IMAGE}
COPY --from=build /opt/movielens /opt/movielens
RUN groupadd --system --gid 10001 movielens \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/movielens movielens
USER movielens
WORKDIR /home/movielens
ENV PATH=/opt/movielens/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=127.0.0.1 \
    PORT=5000
EXPOSE 5000
# /health needs no credentials and answers 200 once the data is loaded.
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; h = os.environ.get('HOST', '127.0.0.1'); h = '127.0.0.1' if h in ('', '0.0.0.0', '::') else h; urllib.request.urlopen(f'http://{h}:{os.environ.get(\"PORT\", \"5000\")}/health', timeout=2)"]
CMD ["/bin/sh", "-c", "exec movielens-api serve --host \"${HOST:-127.0.0.1}\" --port \"${PORT:-5000}\""]
