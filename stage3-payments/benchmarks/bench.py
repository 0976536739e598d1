"""Stage 3 payments benchmark: how fast Stripe's events are acknowledged.

`POST /webhooks/stripe` verifies the signature (HMAC-SHA256 over the raw body), stores the
event under its id (`ON CONFLICT DO NOTHING`) and answers 200; the work itself is the
worker's. Stripe retries a delivery that is not acknowledged within seconds, so this
path's throughput and p99 are what matter. Measured against a real server, as ratios to
`GET /healthz` in the same run: new events, then a stream in which one in ten is a
duplicate (acknowledged without a second row).

It needs PostgreSQL and Redis, found like the tests find them (`TEST_POSTGRES_URL`,
`TEST_REDIS_URL`), creates a throw-away database, and drops it at the end. Run from the
stage folder: `uv run --no-sync python benchmarks/bench.py` (`make bench`).
"""

import asyncio
import hashlib
import hmac
import itertools
import json
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from roadmap_shared.bench import Result, measure, print_section, running_server
from roadmap_shared.testing.databases import (
    alembic_config,
    create_database,
    drop_database,
    run_alembic,
)

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# A logical database no test suite uses.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/") + "/15"
ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
SECRET = "whsec_benchmark_secret_0123456789"  # noqa: S105 (a throw-away signing secret)
EVENTS = 2000
CONCURRENCY = 10

_numbers = itertools.count()


def signed(event_id: str) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "customer.created",
            "created": int(time.time()),
            "data": {"object": {"id": "cus_bench", "object": "customer"}},
        }
    ).encode()
    timestamp = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": f"t={timestamp},v1={digest.hexdigest()}",
    }
    return payload, headers


def delivery(
    duplicate_every: int | None,
) -> Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]:
    def send(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        number = next(_numbers)
        if duplicate_every and number % duplicate_every == 0:
            number = max(0, number - 1)  # the previous event, delivered again
        payload, headers = signed(f"evt_bench_{number}")
        return client.post("/webhooks/stripe", content=payload, headers=headers)

    return send


async def run(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:

        async def bench(name: str, request: Callable[..., Awaitable[httpx.Response]]) -> Result:
            await measure(client, name, request, total=50, concurrency=CONCURRENCY)  # warm up
            return await measure(client, name, request, total=EVENTS, concurrency=CONCURRENCY)

        baseline = await bench("GET /healthz (baseline)", lambda c: c.get("/healthz"))
        results = [
            await bench("POST /webhooks/stripe (new)", delivery(None)),
            await bench("POST /webhooks/stripe (10 % dup)", delivery(10)),
        ]
    print_section(
        f"stage3-payments: webhook acknowledgement, {CONCURRENCY} concurrent senders",
        results,
        baseline,
    )


def main() -> None:
    database_url = create_database(POSTGRES_URL, "bench_billing")
    try:
        run_alembic(alembic_config(ALEMBIC_INI, database_url), "upgrade", "head")
        env = {
            "PAYMENTS_DATABASE_URL": database_url,
            "PAYMENTS_REDIS_URL": REDIS_URL,
            "PAYMENTS_LOG_LEVEL": "WARNING",
            "PAYMENTS_STRIPE_WEBHOOK_SECRETS": json.dumps([SECRET]),
        }
        with running_server("billing.main:create_app", env) as base_url:
            asyncio.run(run(base_url))
    finally:
        drop_database(POSTGRES_URL, database_url)


if __name__ == "__main__":
    main()
