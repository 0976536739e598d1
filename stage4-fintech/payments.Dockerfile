# syntax=docker/dockerfile:1
# The payments service (its API; `python -m payments.worker` runs its relay and fraud
# check from the same image). Build from the repository root (it needs shared/ and the
# workspace lock):
#   docker build -f stage4-fintech/payments.Dockerfile -t stage4-fintech-payments .
# Each service has an image of its own: the stage's one distribution, started as `payments`.

# 1. This stage's locked dependencies as a requirements file. This step reruns on any
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
# Installing the stage builds its gRPC code from proto/ (hatch_build.py).
RUN uv pip install --python /venv/bin/python --no-deps /src/shared /src/stage4-fintech

# 3. The runtime image: the venv and nothing else, run as an unprivileged user.
FROM python:3.11.11-slim
# var/: the worker's relay heartbeat (what its health check reads).
RUN useradd --system --uid 10001 --no-create-home app \
    && mkdir -p /app/var && chown -R app /app/var
COPY --from=build /venv /venv
WORKDIR /app
ENV PATH=/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PAYMENTS_HOST=0.0.0.0 PAYMENTS_ENVIRONMENT=production
# Numeric, so that a runtime (Kubernetes' runAsNonRoot) can tell it is not root.
USER 10001
EXPOSE 8008
# Asks /healthz on the port the settings name, so a changed port keeps a working check.
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD ["python", "-m", "roadmap_shared.healthcheck", "payments"]
# Migrations (the package's own alembic.ini) run before the server starts; with replicas,
# a separate job in a larger deployment.
CMD ["sh", "-c", "python -m roadmap_shared.upgrade_database payments && exec python -m payments"]
