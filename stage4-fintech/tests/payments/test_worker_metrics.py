"""The worker serves its own metrics: a real `python -m payments.worker`, scraped over HTTP
as Prometheus scrapes it, shows what only the worker counts (the fraud check's dead
letters and holds, the reconciler's gauges). The API's `/metrics` is another process's:
it never sees them."""

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from aio_pika.abc import AbstractQueue, AbstractRobustConnection
from httpx import AsyncClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from payments.config import Settings
from roadmap_shared.testing.messaging import eventually
from roadmap_shared.testing.private_servers import free_port
from tests.payments.factories import open_wallet, top_up
from tests.payments.test_fraud import send, settled
from tests.payments.test_reconcile import age

STOP_SECONDS = 30.0
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def fraud_thresholds() -> dict[str, int]:
    """10.00 and more is held for review."""
    return {"review_amount": 1_000}


def worker_environment(settings: Settings, port: int, heartbeat: Path) -> dict[str, str]:
    """The test's settings as the worker reads them: `PAYMENTS_*` variables."""
    return {
        **os.environ,
        "PAYMENTS_ENVIRONMENT": settings.environment.value,
        "PAYMENTS_JWT_PRIVATE_KEYS": json.dumps(settings.private_keys()),
        "PAYMENTS_JWT_ACTIVE_KID": settings.jwt_active_kid,
        "PAYMENTS_DATABASE_URL": settings.database_url,
        "PAYMENTS_RABBITMQ_URL": settings.rabbitmq_url,
        "PAYMENTS_LEDGER_ADDRESS": settings.ledger_address,
        "PAYMENTS_EVENTS_EXCHANGE": settings.events_exchange,
        "PAYMENTS_CONSUMER_NAME": settings.consumer_name,
        "PAYMENTS_RETRY_DELAYS_SECONDS": json.dumps(settings.retry_delays_seconds),
        "PAYMENTS_REVIEW_AMOUNT": str(settings.review_amount),
        "PAYMENTS_RELAY_INTERVAL_SECONDS": str(settings.relay_interval_seconds),
        "PAYMENTS_RELAY_HEARTBEAT": str(heartbeat),
        "PAYMENTS_RECONCILE_INTERVAL_SECONDS": "0.2",
        "PAYMENTS_WORKER_METRICS_PORT": str(port),
    }


@pytest_asyncio.fixture
async def worker_port(
    settings: Settings,
    amqp: AbstractRobustConnection,
    audit_queue: AbstractQueue,
    tmp_path: Path,
) -> AsyncIterator[int]:
    """A worker process on a port of its own; stopped as the orchestrator stops it
    (SIGTERM). Run from an empty folder, so that no `.env` changes its settings."""
    port = free_port()
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "payments.worker",
        cwd=tmp_path,
        env=worker_environment(settings, port, tmp_path / "relay.heartbeat"),
    )
    try:

        async def serving() -> bool:
            assert worker.returncode is None, "the worker exited"
            return bool(await scrape(port))

        await eventually(serving, what="the worker's metrics served")
        yield port
    finally:
        if worker.returncode is None:
            worker.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(worker.wait(), STOP_SECONDS) == 0


async def scrape(port: int) -> Samples:
    """The worker's samples, by name and labels; none while it is still starting."""
    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            answer = await client.get(f"http://127.0.0.1:{port}/metrics")
    except httpx.TransportError:
        return {}
    assert answer.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


async def test_the_worker_serves_what_only_it_counts(
    *,
    worker_port: int,
    committing_client: AsyncClient,
    alice_auth: dict[str, str],
    bob_auth: dict[str, str],
    settings: Settings,
    db_engine: AsyncEngine,
) -> None:
    await open_wallet(committing_client, alice_auth)
    bobs_wallet = await open_wallet(committing_client, bob_auth)
    await top_up(committing_client, alice_auth, 5_000)
    # Relayed, checked and held by the worker; then waiting for a reviewer for an hour.
    held = await send(committing_client, alice_auth, bobs_wallet, 1_500)
    await settled(committing_client, alice_auth, held["id"], "held")
    await age(db_engine, held["id"])

    samples: Samples = {}

    async def overdue_counted() -> bool:
        nonlocal samples
        samples = await scrape(worker_port)
        return samples.get(("payments_reviews_overdue", frozenset()), 0) >= 1

    await eventually(overdue_counted, what="the overdue review in the worker's metrics")
    queue = frozenset({("queue", settings.consumer_name)})
    assert samples[("messages_dead_lettered_total", queue)] == 0
    assert samples[("payments_total", frozenset({("outcome", "held")}))] >= 1
    assert ("outbox_unpublished_events", frozenset()) in samples
