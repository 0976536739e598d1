"""One-off payments: server-side prices, PaymentIntents at the emulator, fulfilment only
from Stripe's verified state."""

import json

import pytest
import stripe
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from billing.payments.catalogue import PRICES, Product
from billing.stripe_gateway import PaymentDeclined, StripeGateway, stripe_errors
from billing.webhooks import handlers
from tests.factories import (
    confirm_with_card,
    new_tenant,
    paid_payment,
    start_payment,
    stripe_event,
)


def gateway_of(app: FastAPI) -> StripeGateway:
    gateway: StripeGateway = app.state.stripe_gateway
    return gateway


async def test_prices_are_public(client: AsyncClient) -> None:
    response = await client.get("/prices")
    assert response.status_code == 200
    assert {price["product"] for price in response.json()} == {p.value for p in Product}


async def test_the_amount_comes_from_our_prices_not_the_client(
    client: AsyncClient, stripe_client: stripe.StripeClient
) -> None:
    tenant = await new_tenant(client)
    response = await client.post(
        f"/organizations/{tenant.id}/payments",
        json={"product": "credits_500", "amount": 1, "currency": "usd"},
        headers=tenant.owner,
    )
    assert response.status_code == 201, response.text
    payment = response.json()
    price = PRICES[Product.CREDITS_500]
    assert (payment["amount"], payment["currency"]) == (price.amount, price.currency)
    intent = await stripe_client.v1.payment_intents.retrieve_async(
        payment["stripe_payment_intent_id"]
    )
    assert (intent.amount, intent.currency) == (price.amount, price.currency)
    # The intent names our row, so the webhook handler finds it without trusting anyone.
    assert intent.metadata["payment_id"] == str(payment["id"])
    assert intent.metadata["organization_id"] == str(tenant.id)
    assert payment["client_secret"] == intent.client_secret
    assert payment["status"] == "pending"
    assert payment["credits_granted"] == 0


async def test_an_unknown_product_is_refused(client: AsyncClient) -> None:
    tenant = await new_tenant(client)
    response = await client.post(
        f"/organizations/{tenant.id}/payments", json={"product": "free_money"}, headers=tenant.owner
    )
    assert response.status_code == 422


async def test_one_stripe_customer_per_organization(
    client: AsyncClient, stripe_client: stripe.StripeClient
) -> None:
    tenant = await new_tenant(client)
    first = await start_payment(client, tenant)
    second = await start_payment(client, tenant)
    intents = [
        await stripe_client.v1.payment_intents.retrieve_async(p["stripe_payment_intent_id"])
        for p in (first, second)
    ]
    assert intents[0].customer == intents[1].customer


async def test_confirming_alone_fulfils_nothing_until_stripe_says_so(
    client: AsyncClient,
    stripe_client: stripe.StripeClient,
    db_session: AsyncSession,
    app: FastAPI,
) -> None:
    tenant = await new_tenant(client)
    payment = await start_payment(client, tenant)
    intent = await confirm_with_card(stripe_client, payment["stripe_payment_intent_id"])
    url = f"/organizations/{tenant.id}/payments/{payment['id']}"
    assert (await client.get(url, headers=tenant.owner)).json()["status"] == "pending"

    await handlers.handle(
        db_session, gateway_of(app), json.loads(stripe_event("payment_intent.succeeded", intent))
    )

    fulfilled = (await client.get(url, headers=tenant.owner)).json()
    assert fulfilled["status"] == "succeeded"
    assert fulfilled["amount_captured"] == 1_000
    assert fulfilled["credits_granted"] == PRICES[Product.CREDITS_100].credits


async def test_an_event_whose_copy_lies_is_judged_by_stripes_current_state(
    client: AsyncClient,
    stripe_client: stripe.StripeClient,
    db_session: AsyncSession,
    app: FastAPI,
) -> None:
    """A `succeeded` event for an intent nobody confirmed (forged, or stale) grants
    nothing: the handler asks Stripe."""
    tenant = await new_tenant(client)
    payment = await start_payment(client, tenant)
    intent = (
        await stripe_client.v1.payment_intents.retrieve_async(payment["stripe_payment_intent_id"])
    ).to_dict()
    claimed = {**intent, "status": "succeeded", "amount_received": intent["amount"]}
    await handlers.handle(
        db_session, gateway_of(app), json.loads(stripe_event("payment_intent.succeeded", claimed))
    )
    response = await client.get(
        f"/organizations/{tenant.id}/payments/{payment['id']}", headers=tenant.owner
    )
    assert response.json()["status"] == "pending"
    assert response.json()["credits_granted"] == 0


async def test_a_late_failure_event_does_not_undo_a_success(
    client: AsyncClient,
    stripe_client: stripe.StripeClient,
    db_session: AsyncSession,
    app: FastAPI,
) -> None:
    tenant = await new_tenant(client)
    paid = await paid_payment(
        client,
        stripe_client=stripe_client,
        session=db_session,
        gateway=gateway_of(app),
        tenant=tenant,
    )
    intent = await stripe_client.v1.payment_intents.retrieve_async(paid["stripe_payment_intent_id"])
    for type_ in ("payment_intent.payment_failed", "payment_intent.canceled"):
        stale = {**intent.to_dict(), "status": "requires_payment_method"}
        await handlers.handle(db_session, gateway_of(app), json.loads(stripe_event(type_, stale)))
    response = await client.get(
        f"/organizations/{tenant.id}/payments/{paid['id']}", headers=tenant.owner
    )
    assert response.json()["status"] == "succeeded"
    assert response.json()["credits_granted"] == paid["credits_granted"]


async def test_handling_success_twice_grants_credits_once(
    client: AsyncClient,
    stripe_client: stripe.StripeClient,
    db_session: AsyncSession,
    app: FastAPI,
) -> None:
    tenant = await new_tenant(client)
    paid = await paid_payment(
        client,
        stripe_client=stripe_client,
        session=db_session,
        gateway=gateway_of(app),
        tenant=tenant,
    )
    intent = await stripe_client.v1.payment_intents.retrieve_async(paid["stripe_payment_intent_id"])
    # Stripe may send the same news again under a new event id.
    await handlers.handle(
        db_session,
        gateway_of(app),
        json.loads(stripe_event("payment_intent.succeeded", intent.to_dict())),
    )
    listed = await client.get(f"/organizations/{tenant.id}/payments", headers=tenant.owner)
    assert [p["credits_granted"] for p in listed.json()] == [100]


async def test_a_declined_card_from_stripes_wire_is_a_402(
    stripe_client: stripe.StripeClient,
) -> None:
    intent = await stripe_client.v1.payment_intents.create_async(
        {"amount": 1_000, "currency": "eur", "payment_method": "pm_card_chargeCustomerFail"}
    )
    with pytest.raises(PaymentDeclined) as declined, stripe_errors():
        await stripe_client.v1.payment_intents.confirm_async(intent.id)
    assert declined.value.status == 402
    assert declined.value.extra["decline_code"] == "card_declined"


async def test_the_checkout_path_is_not_read_as_a_payment_id(client: AsyncClient) -> None:
    tenant = await new_tenant(client)
    url = f"/organizations/{tenant.id}/payments/checkout"

    response = await client.get(url, headers=tenant.owner)

    # Only POST exists at this path: its `405` says so, and no GET of "payment checkout".
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_an_intent_we_did_not_create_for_the_payment_fulfils_nothing(
    client: AsyncClient,
    stripe_client: stripe.StripeClient,
    db_session: AsyncSession,
    app: FastAPI,
) -> None:
    """Someone with the account's key (another integration, the dashboard) makes a one-cent
    intent whose metadata names our pending payment, and pays it: our payment is not the
    intent's, so it stays pending and grants nothing."""
    tenant = await new_tenant(client)
    payment = await start_payment(client, tenant, "credits_500")
    cheap = await stripe_client.v1.payment_intents.create_async(
        {
            "amount": 50,
            "currency": "eur",
            "metadata": {"organization_id": str(tenant.id), "payment_id": str(payment["id"])},
        }
    )
    paid = await confirm_with_card(stripe_client, cheap.id)
    await handlers.handle(
        db_session, gateway_of(app), json.loads(stripe_event("payment_intent.succeeded", paid))
    )
    response = await client.get(
        f"/organizations/{tenant.id}/payments/{payment['id']}", headers=tenant.owner
    )
    assert (response.json()["status"], response.json()["credits_granted"]) == ("pending", 0)
