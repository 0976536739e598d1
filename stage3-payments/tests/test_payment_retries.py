"""A payment whose request fails after Stripe acted: its row and idempotency key were
committed before the call, so the payment can be resumed under the same key, and Stripe
answers with the PaymentIntent it already made instead of making a second one. On the
shared Stripe double (a timeout that takes effect), every request committed for real.
"""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from billing.config import Settings
from billing.main import create_app
from billing.models import Payment
from roadmap_shared.testing.stripe_double import StripeDouble
from tests.factories import new_tenant

INTENTS = "/v1/payment_intents"


@pytest.fixture
def app(settings: Settings, stripe_double: StripeDouble, redis_client: Redis) -> FastAPI:
    # One try, answered within 0.5 s or not at all.
    return create_app(
        settings.model_copy(
            update={
                "stripe_api_base": stripe_double.base_url,
                "stripe_timeout_seconds": 0.5,
                "stripe_max_network_retries": 0,
            }
        )
    )


async def test_a_payment_whose_answer_was_lost_is_resumed_under_the_same_key(
    committing_client: AsyncClient, stripe_double: StripeDouble, db_session: AsyncSession
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    stripe_double.fail_next("POST", INTENTS, timeout=True)  # made, but answered too late

    lost = await client.post(
        f"/organizations/{tenant.id}/payments",
        json={"product": "credits_100"},
        headers=tenant.owner,
    )

    assert lost.status_code == 503
    # The request rolled back; the row, committed before Stripe was called, did not.
    await db_session.execute(text("RESET ROLE"))
    [payment] = (await db_session.scalars(select(Payment))).all()
    assert (payment.status, payment.stripe_payment_intent_id) == ("pending", None)
    assert payment.stripe_idempotency_key == f"payment-{payment.id}"
    [first] = [r for r in stripe_double.requests if (r.method, r.path) == ("POST", INTENTS)]
    assert first.idempotency_key == payment.stripe_idempotency_key

    url = f"/organizations/{tenant.id}/payments/{payment.id}/intent"
    resumed = await client.post(url, headers=tenant.admin)
    again = await client.post(url, headers=tenant.owner)

    assert resumed.status_code == 200, resumed.text
    assert again.json()["client_secret"] == resumed.json()["client_secret"]
    # The retry, under the same key, got the intent the lost request had made: one in all.
    tries = [
        (r.idempotency_key, r.replayed)
        for r in stripe_double.requests
        if (r.method, r.path) == ("POST", INTENTS)
    ]
    assert tries == [
        (payment.stripe_idempotency_key, False),
        (payment.stripe_idempotency_key, True),
    ]
    [created] = stripe_double.events("payment_intent.created")
    assert resumed.json()["stripe_payment_intent_id"] == created["data"]["object"]["id"]
    assert resumed.json()["id"] == payment.id


async def test_a_payment_that_is_not_pending_cannot_be_resumed(
    client: AsyncClient, stripe_double: StripeDouble
) -> None:
    tenant = await new_tenant(client)
    checkout = await client.post(
        f"/organizations/{tenant.id}/payments/checkout",
        json={"product": "credits_100"},
        headers=tenant.owner,
    )
    unknown = await client.post(
        f"/organizations/{tenant.id}/payments/999999/intent", headers=tenant.owner
    )
    of_checkout = await client.post(
        f"/organizations/{tenant.id}/payments/{checkout.json()['id']}/intent",
        headers=tenant.owner,
    )
    assert (unknown.status_code, of_checkout.status_code) == (404, 409)
    assert of_checkout.headers["content-type"] == "application/problem+json"


async def test_a_checkout_whose_answer_was_lost_is_not_resumed_as_an_intent(
    committing_client: AsyncClient, stripe_double: StripeDouble, db_session: AsyncSession
) -> None:
    """A Checkout Session made at Stripe whose answer was lost leaves a pending row with no
    session id: it was keyed for a session, and resuming it as a PaymentIntent would send
    that key to another endpoint (or make a second way to pay the same row)."""
    client = committing_client
    tenant = await new_tenant(client)
    stripe_double.fail_next("POST", "/v1/checkout/sessions", timeout=True)
    lost = await client.post(
        f"/organizations/{tenant.id}/payments/checkout",
        json={"product": "credits_100"},
        headers=tenant.owner,
    )
    assert lost.status_code == 503
    await db_session.execute(text("RESET ROLE"))
    [payment] = (await db_session.scalars(select(Payment))).all()
    assert (payment.stripe_checkout_session_id, payment.stripe_idempotency_key) == (
        None,
        f"payment-{payment.id}-checkout",
    )

    resumed = await client.post(
        f"/organizations/{tenant.id}/payments/{payment.id}/intent", headers=tenant.owner
    )

    assert resumed.status_code == 409, resumed.text
    assert not [r for r in stripe_double.requests if (r.method, r.path) == ("POST", INTENTS)]
