# syntax=docker/dockerfile:1
# pdm-bot image; the Helm chart's default image. Build from the repository root:
#   docker build -t pdm-bot:0.1.0 .
# (the tag is the version in pyproject.toml and the chart's appVersion). To pin the base by digest
# as well, resolve it once with `docker buildx imagetools inspect python:3.11.12-slim-bookworm` and
# pass --build-arg PYTHON_IMAGE=python:3.11.12-slim-bookworm@sha256:<digest>.
ARG PYTHON_IMAGE=python:3.11.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY scheduler ./scheduler
# A regular (non-editable) install of the runtime dependencies only: no [dev] extra. Byte-code is
# compiled here because the root filesystem is read-only at run time.
RUN /opt/venv/bin/pip install . \
 && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 pdm \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin pdm
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# Sample policy and migrations: the default PDM_POLICY_FILE (examples/policy.yaml) resolves here.
COPY examples ./examples
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PDM_PORT=3000
USER 10001:10001
EXPOSE 3000
ENTRYPOINT ["pdm-bot"]
CMD ["serve"]
