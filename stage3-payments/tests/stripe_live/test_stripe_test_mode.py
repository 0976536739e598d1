"""The flows the emulator and the double stand in for, against Stripe's real test mode:
a PaymentIntent confirmed with a test card, a declined card, a refund, an over-refund
refused (by us, and by Stripe itself), a subscription created and canceled. Opt-in: see
conftest.py, and the README's "Real Stripe test mode"."""

import json
import time
from typing import Any

import pytest
import stripe
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import Organization, Subscription, SubscriptionStatus
from billing.stripe_gateway import BadGateway
from billing.webhooks import handlers
from tests.factories import Tenant, new_tenant, start_payment, stripe_event
from tests.stripe_live.conftest import requires_test_mode

pytestmark = requires_test_mode

# Where Stripe would send a customer back from a card's bank page (none of these cards asks).
RETURN_URL = "https://example.com/payments/done"


async def confirm(
    stripe_client: stripe.StripeClient, intent_id: str, card: str = "pm_card_visa"
) -> dict[str, Any]:
    """What Stripe.js does in the customer's browser."""
    intent = await stripe_client.v1.payment_intents.confirm_async(
        intent_id, {"payment_method": card, "return_url": RETURN_URL}
    )
    return intent.to_dict()


async def handle(session: AsyncSession, app: FastAPI, type_: str, obj: dict[str, Any]) -> None:
    """What the worker does with Stripe's event (the inbox has tests of its own)."""
    event = json.loads(stripe_event(type_, obj))
    await handlers.handle(session, app.state.stripe_gateway, event)


async def payment_now(client: AsyncClient, tenant: Tenant, payment_id: int) -> dict[str, Any]:
    response = await client.get(
        f"/organizations/{tenant.id}/payments/{payment_id}", headers=tenant.owner
    )
    body: dict[str, Any] = response.json()
    return body


async def paid(
    client: AsyncClient, stripe_client: stripe.StripeClient, session: AsyncSession, app: FastAPI
) -> tuple[Tenant, dict[str, Any]]:
    tenant = await new_tenant(client)
    payment = await start_payment(client, tenant)
    intent = await confirm(stripe_client, payment["stripe_payment_intent_id"])
    assert intent["status"] == "succeeded"
    await handle(session, app, "payment_intent.succeeded", intent)
    return tenant, await payment_now(client, tenant, payment["id"])


async def test_a_payment_confirmed_with_a_test_card_is_fulfilled(
    client: AsyncClient, stripe_client: stripe.StripeClient, db_session: AsyncSession, app: FastAPI
) -> None:
    _, payment = await paid(client, stripe_client, db_session, app)

    assert (payment["status"], payment["amount_captured"]) == ("succeeded", 1_000)
    assert payment["credits_granted"] == 100


async def test_a_declined_card_fails_the_payment(
    client: AsyncClient, stripe_client: stripe.StripeClient, db_session: AsyncSession, app: FastAPI
) -> None:
    tenant = await new_tenant(client)
    payment = await start_payment(client, tenant)
    with pytest.raises(stripe.CardError):
        await confirm(stripe_client, payment["stripe_payment_intent_id"], "pm_card_chargeDeclined")
    intent = await stripe_client.v1.payment_intents.retrieve_async(
        payment["stripe_payment_intent_id"]
    )

    await handle(db_session, app, "payment_intent.payment_failed", intent.to_dict())

    assert (await payment_now(client, tenant, payment["id"]))["credits_granted"] == 0


async def test_a_refund_then_more_than_is_left_is_refused_by_us_and_by_stripe(
    client: AsyncClient, stripe_client: stripe.StripeClient, db_session: AsyncSession, app: FastAPI
) -> None:
    tenant, payment = await paid(client, stripe_client, db_session, app)
    url = f"/organizations/{tenant.id}/payments/{payment['id']}/refunds"

    refunded = await client.post(
        url, json={"amount": 300, "reason": "requested_by_customer"}, headers=tenant.owner
    )
    assert refunded.status_code == 201, refunded.text
    refused = await client.post(
        url, json={"amount": 800, "reason": "requested_by_customer"}, headers=tenant.owner
    )
    assert refused.status_code == 409, refused.text
    # Stripe refuses it too, were our check ever bypassed: an invalid request, 502 to us.
    with pytest.raises(BadGateway):
        await app.state.stripe_gateway.create_refund(
            payment_intent=payment["stripe_payment_intent_id"],
            amount=800,
            reason="requested_by_customer",
            metadata={},
            idempotency_key=f"test-over-refund-{time.time_ns()}",
        )
    charged = await stripe_client.v1.payment_intents.retrieve_async(
        payment["stripe_payment_intent_id"], {"expand": ["latest_charge"]}
    )
    assert charged.to_dict()["latest_charge"]["amount_refunded"] == 300


async def test_a_subscription_created_at_stripe_is_applied_then_canceled(
    client: AsyncClient, stripe_client: stripe.StripeClient, db_session: AsyncSession, app: FastAPI
) -> None:
    tenant = await new_tenant(client)
    customer = await stripe_client.v1.customers.create_async({"name": "Live test"})
    # The organisation's customer, as a first payment records it: the subscription's events
    # are applied to the organisation whose customer pays.
    await db_session.execute(text("RESET ROLE"))
    await db_session.execute(
        update(Organization)
        .where(Organization.id == tenant.id)
        .values(stripe_customer_id=customer.id)
    )
    card = await stripe_client.v1.payment_methods.attach_async(
        "pm_card_visa", {"customer": customer.id}
    )
    price = await stripe_client.v1.prices.create_async(
        {
            "currency": "eur",
            "unit_amount": 1_500,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Pro (test suite)"},
        }
    )
    created = await stripe_client.v1.subscriptions.create_async(
        {
            "customer": customer.id,
            "items": [{"price": price.id}],
            "default_payment_method": card.id,
            "metadata": {"organization_id": str(tenant.id), "plan": "pro", "interval": "month"},
        }
    )
    try:
        assert created.status == "active"
        await handle(db_session, app, "customer.subscription.created", created.to_dict())
        assert (await stored(db_session, tenant)).status is SubscriptionStatus.ACTIVE
    finally:
        canceled = await stripe_client.v1.subscriptions.cancel_async(created.id)
    await handle(db_session, app, "customer.subscription.deleted", canceled.to_dict())
    assert (await stored(db_session, tenant)).status is SubscriptionStatus.CANCELED


async def stored(session: AsyncSession, tenant: Tenant) -> Subscription:
    await session.execute(text("RESET ROLE"))
    session.expire_all()
    row = await session.scalar(
        select(Subscription).where(Subscription.organization_id == tenant.id)
    )
    assert row is not None
    return row
