# syntax=docker/dockerfile:1
# The audit service: the consumer of the payment events, with its health checks.
# Build from the repository root (it needs shared/ and the lock file):
#   docker build -f stage4-fintech/audit.Dockerfile -t audit .
# Each service has an image of its own: the stage's one distribution, started as `audit`.

# 1. The stage's locked dependencies as a requirements file. This step reruns on any
#    change, but its output changes only with uv.lock, so step 2 stays cached.
FROM python:3.11.11-slim AS requirements
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /bin/uv
WORKDIR /src
COPY . .
RUN uv export --locked --package fintech --no-dev --no-emit-workspace -o /requirements.txt

# 2. Dependencies first (cached), then shared/ and the stage itself, into a venv.
FROM python:3.11.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN uv venv /venv
COPY --from=requirements /requirements.txt /requirements.txt
RUN --mount=type=cache,target=/root/.cache/uv \
    uv pip install --python /venv/bin/python --require-hashes -r /requirements.txt
COPY shared /src/shared
COPY stage4-fintech /src/stage4-fintech
RUN uv pip install --python /venv/bin/python --no-deps /src/shared /src/stage4-fintech

# 3. The runtime image: the venv and nothing else, run as an unprivileged user.
FROM python:3.11.11-slim
RUN useradd --system --uid 10001 --no-create-home app
COPY --from=build /venv /venv
WORKDIR /app
ENV PATH=/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 AUDIT_HOST=0.0.0.0 AUDIT_PORT=8000 \
    AUDIT_ENVIRONMENT=production
# Numeric, so that a runtime (Kubernetes' runAsNonRoot) can tell it is not root.
USER 10001
# Health checks and /metrics only: the service has no API.
EXPOSE 8000
# Asks /healthz on the port the settings name, so a changed port keeps a working check.
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD ["python", "-m", "roadmap_shared.healthcheck", "audit"]
# Migrations (the package's own alembic.ini) run before the consumer starts; with replicas,
# a separate job in a larger deployment. `docker compose run stage4-fintech-audit
# python -m audit verify` checks the chain.
CMD ["sh", "-c", "python -m roadmap_shared.upgrade_database audit && exec python -m audit.worker"]
