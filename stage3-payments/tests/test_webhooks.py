"""`POST /webhooks/stripe`: verified, stored once, processed by the worker with retries."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
import stripe
from httpx import AsyncClient
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing.config import Settings
from billing.models import InboxStatus, WebhookEvent
from billing.stripe_gateway import StripeGateway
from billing.webhooks import inbox
from billing.webhooks.processing import (
    process_due_events,
    prune_processed_events,
    sweep_stuck_events,
)
from roadmap_shared.database import Database, utcnow
from tests.conftest import PREVIOUS_WEBHOOK_SECRET, make_settings
from tests.factories import (
    Tenant,
    confirm_with_card,
    deliver,
    new_tenant,
    start_payment,
    stripe_event,
    stripe_signature,
)


async def stored_events(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(WebhookEvent)) or 0)


def an_event() -> bytes:
    return stripe_event("customer.created", {"id": "cus_test", "object": "customer"})


# --- verification and deduplication ------------------------------------------------------


async def test_a_signed_event_is_stored_and_acknowledged(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    response = await deliver(client, an_event())
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    assert await stored_events(db_session) == 1


async def test_a_duplicate_is_acknowledged_and_stored_once(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    payload = an_event()
    await deliver(client, payload)
    again = await deliver(client, payload)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert await stored_events(db_session) == 1


async def test_the_previous_secret_is_accepted_during_a_rotation(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    payload = an_event()
    response = await deliver(
        client, payload, signature=stripe_signature(payload, PREVIOUS_WEBHOOK_SECRET)
    )
    assert response.status_code == 200
    assert await stored_events(db_session) == 1


BAD_SIGNATURES: dict[str, Callable[[bytes], str]] = {
    "missing": lambda payload: "",
    "garbage": lambda payload: "not a signature",
    "wrong secret": lambda payload: stripe_signature(payload, "whsec_someone_else"),
    "stale": lambda payload: stripe_signature(payload, timestamp=int(time.time()) - 301),
    "another body": lambda payload: stripe_signature(payload + b" "),
}


@pytest.mark.parametrize("case", BAD_SIGNATURES)
async def test_a_bad_signature_is_400_and_nothing_is_stored(
    client: AsyncClient, db_session: AsyncSession, case: str
) -> None:
    payload = an_event()
    signature = BAD_SIGNATURES[case](payload)
    headers = {"Content-Type": "application/json"}
    if signature:
        headers["Stripe-Signature"] = signature
    response = await client.post("/webhooks/stripe", content=payload, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert await stored_events(db_session) == 0


@pytest.mark.parametrize("payload", [b"not json", b"[]", b'{"id": 1}', b'{"id": "evt_1"}'])
async def test_a_signed_body_that_is_not_an_event_is_400(
    client: AsyncClient, db_session: AsyncSession, payload: bytes
) -> None:
    response = await deliver(client, payload)
    assert response.status_code == 400
    assert await stored_events(db_session) == 0


# --- the worker's side -------------------------------------------------------------------


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway(settings)
    yield gateway
    await gateway.close()


async def confirmed_payment(
    client: AsyncClient, stripe_client: stripe.StripeClient
) -> tuple[Tenant, dict[str, Any], bytes]:
    """A payment the customer confirmed, and Stripe's event saying so (not yet sent)."""
    tenant = await new_tenant(client)
    payment = await start_payment(client, tenant)
    intent = await confirm_with_card(stripe_client, payment["stripe_payment_intent_id"])
    return tenant, payment, stripe_event("payment_intent.succeeded", intent)


async def payment_now(client: AsyncClient, tenant: Tenant, payment: dict[str, Any]) -> Any:
    url = f"/organizations/{tenant.id}/payments/{payment['id']}"
    return (await client.get(url, headers=tenant.owner)).json()


async def inbox_row(database: Database, event_id: str) -> WebhookEvent:
    async with database.sessionmaker() as session:
        row = await session.get(WebhookEvent, event_id)
        assert row is not None
        return row


@pytest.mark.slow
async def test_ten_simultaneous_deliveries_store_one_event_with_one_effect(
    committing_client: AsyncClient,
    stripe_client: stripe.StripeClient,
    database: Database,
    gateway: StripeGateway,
    settings: Settings,
) -> None:
    client = committing_client
    tenant, payment, event = await confirmed_payment(client, stripe_client)

    responses = await asyncio.gather(*(deliver(client, event) for _ in range(10)))

    assert [r.status_code for r in responses] == [200] * 10
    assert sorted(r.json()["duplicate"] for r in responses) == [False] + [True] * 9
    assert await process_due_events(database, gateway, settings) == 1
    assert await process_due_events(database, gateway, settings) == 0
    fulfilled = await payment_now(client, tenant, payment)
    assert (fulfilled["status"], fulfilled["credits_granted"]) == ("succeeded", 100)
    row = await inbox_row(database, json.loads(event)["id"])
    assert (row.status, row.attempts) == (InboxStatus.PROCESSED, 1)


@pytest.mark.slow
async def test_a_failing_event_is_retried_with_backoff_then_given_up(
    *,
    committing_client: AsyncClient,
    stripe_client: stripe.StripeClient,
    database: Database,
    settings: Settings,
    database_url: str,
    redis_url: str,
) -> None:
    client = committing_client
    tenant, payment, event = await confirmed_payment(client, stripe_client)
    await deliver(client, event)
    event_id = json.loads(event)["id"]
    # Stripe unreachable while the worker handles the event: nothing listens on port 9.
    unreachable = make_settings(
        database_url,
        redis_url,
        stripe_api_base="http://127.0.0.1:9",
        stripe_max_network_retries=0,
        inbox_max_attempts=2,
        inbox_retry_base_seconds=60,
    )
    broken = StripeGateway(unreachable)
    try:
        before = utcnow()
        await process_due_events(database, broken, unreachable)
        row = await inbox_row(database, event_id)
        assert (row.status, row.attempts) == (InboxStatus.PENDING, 1)
        assert "ServiceUnavailable" in (row.last_error or "")
        assert row.next_attempt_at >= before + timedelta(seconds=60)
        # Not due yet: a run now leaves it alone.
        assert await process_due_events(database, broken, unreachable) == 0

        later = row.next_attempt_at + timedelta(seconds=1)
        await process_due_events(database, broken, unreachable, now=later)
        row = await inbox_row(database, event_id)
        assert (row.status, row.attempts) == (InboxStatus.FAILED, 2)
    finally:
        await broken.close()
    assert (await payment_now(client, tenant, payment))["status"] == "pending"


@pytest.mark.slow
async def test_the_sweeper_finishes_an_event_a_dead_worker_claimed(
    committing_client: AsyncClient,
    stripe_client: stripe.StripeClient,
    database: Database,
    gateway: StripeGateway,
    settings: Settings,
) -> None:
    client = committing_client
    tenant, payment, event = await confirmed_payment(client, stripe_client)
    await deliver(client, event)
    # A worker claims the event, then dies before handling it.
    async with database.sessionmaker() as session, session.begin():
        assert len(await inbox.claim(session, now=utcnow(), limit=10)) == 1
    assert await process_due_events(database, gateway, settings) == 0  # claimed: not due
    assert await sweep_stuck_events(database, settings) == 0  # not stuck for long yet

    later = utcnow() + timedelta(seconds=settings.inbox_stuck_after_seconds + 1)
    assert await sweep_stuck_events(database, settings, now=later) == 1
    assert await process_due_events(database, gateway, settings) == 1

    fulfilled = await payment_now(client, tenant, payment)
    assert (fulfilled["status"], fulfilled["credits_granted"]) == ("succeeded", 100)
    row = await inbox_row(database, json.loads(event)["id"])
    assert (row.status, row.attempts) == (InboxStatus.PROCESSED, 2)


async def test_processed_events_are_pruned_after_the_retention_period(
    committed_session: AsyncSession, database: Database, settings: Settings
) -> None:
    now = utcnow()
    retention = timedelta(days=settings.inbox_retention_days)
    for event_id, status, processed_at in [
        ("evt_old", InboxStatus.PROCESSED, now - retention - timedelta(minutes=1)),
        ("evt_recent", InboxStatus.PROCESSED, now - retention + timedelta(minutes=1)),
        ("evt_failed_long_ago", InboxStatus.FAILED, None),
    ]:
        committed_session.add(
            WebhookEvent(
                id=event_id,
                type="customer.created",
                created=0,
                payload={},
                status=status,
                processed_at=processed_at,
                received_at=now - retention * 2,
            )
        )
    await committed_session.commit()

    assert await prune_processed_events(database, settings, now=now) == 1
    remaining = await committed_session.scalars(select(WebhookEvent.id).order_by(WebhookEvent.id))
    assert list(remaining) == ["evt_failed_long_ago", "evt_recent"]


async def test_claiming_skips_events_another_worker_holds(
    committed_session: AsyncSession, database: Database
) -> None:
    committed_session.add(WebhookEvent(id="evt_held", type="x", created=0, payload={}))
    committed_session.add(WebhookEvent(id="evt_free", type="x", created=1, payload={}))
    await committed_session.commit()
    async with committed_session.begin():
        await committed_session.execute(
            text("SELECT 1 FROM webhook_events WHERE id = 'evt_held' FOR UPDATE")
        )
        async with database.sessionmaker() as other, other.begin():
            assert list(await inbox.claim(other, now=utcnow(), limit=10)) == ["evt_free"]
    await committed_session.execute(update(WebhookEvent).values(status=InboxStatus.PROCESSED))
    await committed_session.commit()
