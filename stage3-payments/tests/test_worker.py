"""The worker's wiring: its jobs run the inbox with the resources it opens at start-up; and
a worker process killed in the middle of an event loses nothing and applies nothing twice."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import stripe
from httpx import AsyncClient

from billing.config import Settings
from billing.models import InboxStatus
from billing.stripe_gateway import StripeGateway
from billing.webhooks.processing import process_due_events, sweep_stuck_events
from billing.worker import (
    Context,
    _shutdown,
    _startup,
    is_worker_alive,
    process_inbox,
    prune_inbox,
    sweep_inbox,
    worker_options,
)
from roadmap_shared.database import Database, utcnow
from tests.conftest import STRIPE_API_KEY
from tests.factories import confirm_with_card, deliver, new_tenant, start_payment, stripe_event
from tests.test_webhooks import confirmed_payment, inbox_row, payment_now

STAGE = Path(__file__).resolve().parent.parent
# Bounds on every wait of the crash test (a loaded machine starts Python slowly).
WORKER_CLAIMS_WITHIN_SECONDS = 60


async def test_the_worker_jobs_drain_the_inbox(
    committing_client: AsyncClient, stripe_client: stripe.StripeClient, settings: Settings
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    payment = await start_payment(client, tenant)
    intent = await confirm_with_card(stripe_client, payment["stripe_payment_intent_id"])
    await deliver(client, stripe_event("payment_intent.succeeded", intent))

    ctx: Context = {"settings": settings}
    await _startup(ctx)
    try:
        assert await process_inbox(ctx) == 1
        assert await sweep_inbox(ctx) == 0
        assert await prune_inbox(ctx) == 0
    finally:
        await _shutdown(ctx)
    response = await client.get(
        f"/organizations/{tenant.id}/payments/{payment['id']}", headers=tenant.owner
    )
    assert response.json()["status"] == "succeeded"
    assert response.json()["credits_granted"] == 100


def test_the_inbox_runs_every_second_and_never_twice_at_once(settings: Settings) -> None:
    options = worker_options(settings)
    [inbox_job] = [job for job in options["cron_jobs"] if job.name.endswith("process_inbox")]
    assert inbox_job.second == set(range(60))
    assert inbox_job.unique


async def test_no_worker_is_alive_when_none_runs(settings: Settings) -> None:
    assert await is_worker_alive(settings) is False


@pytest.fixture
def silent_stripe() -> Iterator[str]:
    """An address that accepts connections and never answers: Stripe hanging, so that a
    worker is caught in the middle of handling an event."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # the kernel completes the handshakes; nobody ever reads
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def worker_process(settings: Settings, stripe_api_base: str) -> subprocess.Popen[bytes]:
    """`python -m billing.worker`, as `make worker` starts it, on the test's database and
    Redis, and on a queue of its own."""
    env = {
        **os.environ,
        "PAYMENTS_DATABASE_URL": settings.database_url,
        "PAYMENTS_REDIS_URL": settings.redis_url,
        "PAYMENTS_JOBS_QUEUE": f"billing:jobs:crash-test:{os.getpid()}",
        "PAYMENTS_STRIPE_API_KEY": STRIPE_API_KEY,
        "PAYMENTS_STRIPE_API_BASE": stripe_api_base,
        "PAYMENTS_STRIPE_MAX_NETWORK_RETRIES": "0",
        "PAYMENTS_STRIPE_TIMEOUT_SECONDS": "600",
        "PAYMENTS_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "billing.worker"],
        cwd=STAGE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
async def test_a_worker_killed_mid_event_leaves_it_to_the_sweeper_and_it_is_applied_once(
    committing_client: AsyncClient,
    stripe_client: stripe.StripeClient,
    settings: Settings,
    silent_stripe: str,
) -> None:
    client = committing_client
    tenant, payment, event = await confirmed_payment(client, stripe_client)
    await deliver(client, event)  # stored and committed: the inbox has it
    event_id = json.loads(event)["id"]
    database = Database(settings.database_url)
    gateway = StripeGateway(settings)
    worker = worker_process(settings, silent_stripe)
    try:
        # The worker claims the event (committed: `processing`), then waits on Stripe.
        deadline = time.monotonic() + WORKER_CLAIMS_WITHIN_SECONDS
        while (await inbox_row(database, event_id)).status is not InboxStatus.PROCESSING:
            assert worker.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the worker never claimed the event"
            await asyncio.sleep(0.2)
        worker.kill()  # SIGKILL: no handler, no cleanup, as when the machine dies
        worker.wait(timeout=30)

        row = await inbox_row(database, event_id)
        assert (row.status, row.attempts) == (InboxStatus.PROCESSING, 1)
        assert (await payment_now(client, tenant, payment))["credits_granted"] == 0
        # Claimed: not due for another worker, until the sweeper hands it back.
        assert await process_due_events(database, gateway, settings) == 0
        later = utcnow() + timedelta(seconds=settings.inbox_stuck_after_seconds + 1)
        assert await sweep_stuck_events(database, settings, now=later) == 1
        assert await process_due_events(database, gateway, settings) == 1
        assert await process_due_events(database, gateway, settings) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=30)
        await gateway.close()
        await database.dispose()

    fulfilled = await payment_now(client, tenant, payment)
    assert (fulfilled["status"], fulfilled["credits_granted"]) == ("succeeded", 100)
    row = await inbox_row(database, event_id)
    assert (row.status, row.attempts) == (InboxStatus.PROCESSED, 2)
