# syntax=docker/dockerfile:1
# One image for both FluffyMail processes:
#   web:    fluffymail web --host 0.0.0.0 --port 8000      (the default CMD)
#   worker: fluffymail worker --metrics-port 9100          (override the command)
# Migrations run once per release with `fluffymail db upgrade` (see deploy/README.md).
#
# BASE_IMAGE is any Debian-based image with Python >= 3.11 and its venv module as `python3` on
# PATH; deployments use the official one. `./dev image` builds this file on a local Debian base
# made from the machine's apt mirrors (scripts/image_check.sh) where no container registry is
# reachable.

ARG BASE_IMAGE=python:3.11-slim

# ---- builder: the locked dependencies, then the project, into /app/.venv -------------------
FROM ${BASE_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON=python3 \
    UV_PYTHON_PREFERENCE=only-system \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

# The same pinned uv as ./dev, from a venv of its own (Debian's system pip refuses to install:
# PEP 668); only its binary goes on PATH, so `python3` stays the base image's interpreter.
RUN python3 -m venv /opt/uv \
 && /opt/uv/bin/pip install "uv==0.13.9" \
 && ln -s /opt/uv/bin/uv /usr/local/bin/uv

WORKDIR /src
# Dependencies first, in their own layer: it is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --extra sentry

# Then the project itself, as a regular (non-editable) install: /src is not in the runtime image.
COPY README.md ./
COPY src ./src
RUN uv sync --frozen --no-dev --no-editable --extra sentry

# ---- runtime: the venv and nothing else --------------------------------------------------------
FROM ${BASE_IMAGE} AS runtime

ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FLUFFYMAIL_DATA_DIR=/app/data \
    FLUFFYMAIL_LOG_FORMAT=json

RUN groupadd --system --gid 10001 fluffymail \
 && useradd --system --uid 10001 --gid fluffymail --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin fluffymail \
 && mkdir -p /app/data \
 && chown fluffymail:fluffymail /app/data

WORKDIR /app
# Owned by root and read-only for the app user: the running process cannot modify its code.
COPY --from=builder /app/.venv /app/.venv
COPY deploy/healthcheck.py /app/healthcheck.py

USER 10001:10001

EXPOSE 8000 9100
# The worker drains on SIGTERM for FLUFFYMAIL_SHUTDOWN_GRACE seconds (default 20); give it a
# platform stop timeout above that (compose stop_grace_period, fly kill_timeout, ECS stopTimeout).
STOPSIGNAL SIGTERM
# Probes $HEALTHCHECK_URL, default http://127.0.0.1:${PORT:-8000}/healthz (web). Worker
# containers set HEALTHCHECK_URL=http://127.0.0.1:9100/healthz (their metrics port).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/healthcheck.py"]

CMD ["fluffymail", "web", "--host", "0.0.0.0", "--port", "8000"]
