# model-router: a small image that runs as an unprivileged user.
#   docker build -t model-router .
#   docker run -p 8001:8001 -e DATABASE_URL=postgresql://... model-router
# `docker compose up` (docker-compose.yml) adds PostgreSQL and Redis.

FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
# The locked dependencies first: this layer is reused until uv.lock changes.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
# Then the project itself, installed into the venv (not editable: src is not shipped).
COPY README.md ./
COPY src ./src
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim
RUN groupadd --system --gid 10001 router \
    && useradd --system --uid 10001 --gid router --home-dir /app --shell /usr/sbin/nologin router \
    && mkdir -p /app/data \
    && chown router:router /app/data
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8001
WORKDIR /app
USER router
EXPOSE 8001
# /app/data: the SQLite file (if no DATABASE_URL) and the request log's spill files.
VOLUME ["/app/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/ready' % os.environ.get('PORT', '8001'), timeout=2)"]
STOPSIGNAL SIGTERM
CMD ["model-router", "serve"]
