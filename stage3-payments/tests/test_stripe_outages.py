"""When Stripe fails: retries with one idempotency key, then a clear problem response.

Stripe's failures are injected into the shared Stripe double (`fail_next`): a 500 has no
effect; a timeout takes effect and answers too late. The double keeps every request
(method, path, Idempotency-Key, status, replayed or not) and every event, which is how
these tests count tries and PaymentIntents.
"""

import time

import pytest
import stripe
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from billing.config import Settings
from billing.main import create_app
from billing.models import Payment
from billing.stripe_gateway import BadGateway, PaymentDeclined, StripeGateway, stripe_errors
from roadmap_shared.errors import ServiceUnavailable
from roadmap_shared.testing.stripe_double import StripeDouble
from tests.conftest import STRIPE_API_KEY
from tests.factories import new_tenant

INTENTS = "/v1/payment_intents"


def gateway_against(double: StripeDouble, settings: Settings, **overrides: object) -> StripeGateway:
    values = {"stripe_api_base": double.base_url, "stripe_timeout_seconds": 1.0, **overrides}
    return StripeGateway(settings.model_copy(update=values))


async def create_intent(gateway: StripeGateway) -> stripe.PaymentIntent:
    try:
        customer = await gateway.create_customer(
            name="Acme", organization_id=42, idempotency_key="organization-42-customer"
        )
        return await gateway.create_payment_intent(
            amount=1_000,
            currency="eur",
            customer=customer,
            metadata={"payment_id": "42"},
            idempotency_key="payment-42",
        )
    finally:
        await gateway.close()


def intent_requests(double: StripeDouble) -> list[tuple[str | None, int, bool]]:
    return [
        (r.idempotency_key, r.status, r.replayed)
        for r in double.requests
        if (r.method, r.path) == ("POST", INTENTS)
    ]


async def test_500s_are_retried_with_the_same_key_and_make_one_intent(
    settings: Settings, stripe_double: StripeDouble
) -> None:
    stripe_double.fail_next("POST", INTENTS, status=500, times=2)
    gateway = gateway_against(stripe_double, settings, stripe_max_network_retries=2)

    intent = await create_intent(gateway)

    assert intent.amount == 1_000
    assert intent.metadata["payment_id"] == "42"
    # Two failures, then the retry that works, all under our own key.
    assert intent_requests(stripe_double) == [
        ("payment-42", 500, False),
        ("payment-42", 500, False),
        ("payment-42", 200, False),
    ]
    created = stripe_double.events("payment_intent.created")
    assert [event["data"]["object"]["id"] for event in created] == [intent.id]


async def test_500s_past_the_retries_are_a_502_and_make_no_intent(
    settings: Settings, stripe_double: StripeDouble
) -> None:
    stripe_double.fail_next("POST", INTENTS, status=500, times=3)
    gateway = gateway_against(stripe_double, settings, stripe_max_network_retries=2)

    with pytest.raises(BadGateway) as failed:
        await create_intent(gateway)

    assert failed.value.status == 502
    # Tried once and retried twice (`max_network_retries`), always under our own key.
    assert intent_requests(stripe_double) == [("payment-42", 500, False)] * 3
    assert stripe_double.events("payment_intent.created") == []


async def test_a_timeout_is_retried_under_the_same_key_then_is_a_503_with_retry_after(
    settings: Settings, stripe_double: StripeDouble
) -> None:
    # Stripe creates the intent, but the answer never arrives in time; nor does the retry's.
    stripe_double.fail_next("POST", INTENTS, timeout=True, times=2)
    gateway = gateway_against(
        stripe_double, settings, stripe_max_network_retries=1, stripe_timeout_seconds=0.3
    )
    started = time.monotonic()

    with pytest.raises(ServiceUnavailable) as failed:
        await create_intent(gateway)

    assert time.monotonic() - started < 3  # our timeout, not Stripe's delay, bounds the wait
    assert failed.value.status == 503
    assert int(failed.value.headers["Retry-After"]) > 0
    # The retry reused our key, so Stripe replayed the first answer: one intent, not two.
    assert intent_requests(stripe_double) == [("payment-42", 200, False), ("payment-42", 200, True)]
    assert len(stripe_double.events("payment_intent.created")) == 1


async def test_a_declined_card_is_a_402_with_stripes_decline_code(
    stripe_double: StripeDouble,
) -> None:
    client = stripe.StripeClient(STRIPE_API_KEY, base_addresses={"api": stripe_double.base_url})

    with pytest.raises(PaymentDeclined) as declined, stripe_errors():
        await client.v1.payment_intents.create_async(
            {
                "amount": 1_000,
                "currency": "eur",
                "payment_method": "pm_card_chargeDeclined",
                "confirm": True,
            }
        )

    assert declined.value.status == 402
    assert declined.value.detail == "Your card was declined."
    assert declined.value.extra == {"decline_code": "card_declined"}
    assert [r.status for r in stripe_double.requests] == [402]
    assert stripe_double.events("payment_intent.succeeded") == []


@pytest.fixture
def app(settings: Settings, redis_client: Redis) -> FastAPI:
    """The suite's app, with Stripe unreachable: nothing listens on port 9 of loopback."""
    unreachable = {"stripe_api_base": "http://127.0.0.1:9", "stripe_max_network_retries": 0}
    return create_app(settings.model_copy(update=unreachable))


async def test_paying_while_stripe_is_down_is_a_503_and_leaves_nothing(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    tenant = await new_tenant(client)
    response = await client.post(
        f"/organizations/{tenant.id}/payments",
        json={"product": "credits_100"},
        headers=tenant.owner,
    )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "Retry-After" in response.headers
    await db_session.execute(text("RESET ROLE"))
    assert await db_session.scalar(select(func.count()).select_from(Payment)) == 0
