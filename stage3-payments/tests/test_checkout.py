"""Paying on Stripe's hosted Checkout page, against the shared Stripe double (localstripe
has no Checkout).

The payment is fulfilled by the worker, on a verified `checkout.session.completed` whose
session, read again from Stripe, is paid: not by the customer's return, not by an event's
own copy of the session.
"""

import time
from typing import Any

import pytest
import stripe
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from billing.config import Settings
from billing.main import create_app
from billing.models import OutboxMessage
from billing.worker import Context, _shutdown, _startup, process_inbox
from roadmap_shared.testing.stripe_double import StripeDouble
from tests.conftest import STRIPE_API_KEY, WEBHOOK_SECRET
from tests.factories import Tenant, new_tenant


@pytest.fixture
def settings_on_double(settings: Settings, stripe_double: StripeDouble) -> Settings:
    return settings.model_copy(update={"stripe_api_base": stripe_double.base_url})


@pytest.fixture
def app(settings_on_double: Settings, redis_client: Redis) -> FastAPI:
    return create_app(settings_on_double)


async def deliver(client: AsyncClient, event: dict[str, Any], secret: str = WEBHOOK_SECRET) -> int:
    payload, signature = StripeDouble.sign(event, secret)
    response = await client.post(
        "/webhooks/stripe",
        content=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
    )
    return response.status_code


async def run_worker(settings: Settings) -> int:
    ctx: Context = {"settings": settings}
    await _startup(ctx)
    try:
        return await process_inbox(ctx)
    finally:
        await _shutdown(ctx)


async def start_checkout(client: AsyncClient, tenant: Tenant) -> dict[str, Any]:
    response = await client.post(
        f"/organizations/{tenant.id}/payments/checkout",
        json={"product": "credits_500"},
        headers=tenant.owner,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def payment_now(client: AsyncClient, tenant: Tenant, payment: dict[str, Any]) -> Any:
    response = await client.get(
        f"/organizations/{tenant.id}/payments/{payment['id']}", headers=tenant.owner
    )
    return response.json()


async def test_a_checkout_session_carries_our_price_and_our_row(
    client: AsyncClient, stripe_double: StripeDouble
) -> None:
    tenant = await new_tenant(client)

    payment = await start_checkout(client, tenant)

    assert (payment["status"], payment["amount"], payment["currency"]) == ("pending", 4_500, "eur")
    assert payment["stripe_payment_intent_id"] is None  # none until the customer pays
    session = stripe_double.get(payment["stripe_checkout_session_id"])
    assert payment["checkout_url"] == session["url"]
    assert (session["mode"], session["amount_total"], session["currency"]) == (
        "payment",
        4_500,
        "eur",
    )
    assert session["metadata"] == {
        "organization_id": str(tenant.id),
        "payment_id": str(payment["id"]),
    }
    [create] = [r for r in stripe_double.requests if r.path == "/v1/checkout/sessions"]
    assert create.idempotency_key == f"payment-{payment['id']}-checkout"
    # And onto the PaymentIntent the session makes once paid (disputes name only that).
    assert create.params["payment_intent_data"] == {"metadata": session["metadata"]}


async def test_the_completed_event_fulfils_once_through_the_worker(
    committing_client: AsyncClient, stripe_double: StripeDouble, settings_on_double: Settings
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    payment = await start_checkout(client, tenant)
    session_id = payment["stripe_checkout_session_id"]

    stripe_double.complete_checkout_session(session_id)  # the customer pays
    [completed] = stripe_double.events("checkout.session.completed")
    assert await deliver(client, completed, secret="whsec_not_ours") == 400
    assert await deliver(client, completed) == 200
    assert await deliver(client, completed) == 200  # Stripe delivers twice: one effect
    assert (await payment_now(client, tenant, payment))["status"] == "pending"  # not yet
    assert await run_worker(settings_on_double) == 1

    paid = await payment_now(client, tenant, payment)
    session = stripe_double.get(session_id)
    assert (paid["status"], paid["credits_granted"], paid["amount_captured"]) == (
        "succeeded",
        500,
        4_500,
    )
    # Refunds go through the session's PaymentIntent, recorded once it exists.
    assert paid["stripe_payment_intent_id"] == session["payment_intent"]
    # The handler read the session again from Stripe rather than trust the event's copy.
    reads = [r for r in stripe_double.requests if r.method == "GET" and session_id in r.path]
    assert len(reads) == 1


async def test_a_completed_event_for_an_unpaid_session_fulfils_nothing(
    committing_client: AsyncClient, stripe_double: StripeDouble, settings_on_double: Settings
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    payment = await start_checkout(client, tenant)
    unpaid = stripe_double.get(payment["stripe_checkout_session_id"])
    # Signed with our secret, but claiming a payment Stripe has not seen: a leaked secret,
    # or an event replayed from another account. Stripe's own copy says unpaid.
    claims_paid = {**unpaid, "status": "complete", "payment_status": "paid"}
    event = {
        "id": "evt_claims_paid",
        "object": "event",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {"object": claims_paid},
    }

    assert await deliver(client, event) == 200
    assert await run_worker(settings_on_double) == 1

    still = await payment_now(client, tenant, payment)
    assert (still["status"], still["credits_granted"]) == ("pending", 0)


async def test_a_paid_session_we_did_not_create_for_the_payment_fulfils_nothing(
    committing_client: AsyncClient, stripe_double: StripeDouble, settings_on_double: Settings
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    payment = await start_checkout(client, tenant)
    # Someone with the account's key makes a one-cent session naming our payment, and pays.
    stripe_client = stripe.StripeClient(
        STRIPE_API_KEY, base_addresses={"api": stripe_double.base_url}
    )
    cheap = await stripe_client.v1.checkout.sessions.create_async(
        {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 1,
                        "product_data": {"name": "a cent"},
                    },
                    "quantity": 1,
                }
            ],
            "metadata": {"organization_id": str(tenant.id), "payment_id": str(payment["id"])},
            "success_url": "https://example.com/done",
        }
    )
    stripe_double.complete_checkout_session(cheap.id)

    [completed] = stripe_double.events("checkout.session.completed")
    assert await deliver(client, completed) == 200
    assert await run_worker(settings_on_double) == 1

    still = await payment_now(client, tenant, payment)
    assert (still["status"], still["credits_granted"]) == ("pending", 0)


async def test_an_expired_session_cancels_the_payment(
    committing_client: AsyncClient, stripe_double: StripeDouble, settings_on_double: Settings
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    payment = await start_checkout(client, tenant)
    stripe_client = stripe.StripeClient(
        STRIPE_API_KEY, base_addresses={"api": stripe_double.base_url}
    )
    await stripe_client.v1.checkout.sessions.expire_async(payment["stripe_checkout_session_id"])

    [expired] = stripe_double.events("checkout.session.expired")
    assert await deliver(client, expired) == 200
    assert await run_worker(settings_on_double) == 1

    canceled = await payment_now(client, tenant, payment)
    assert (canceled["status"], canceled["credits_granted"]) == ("canceled", 0)


async def outbox(session: AsyncSession) -> list[tuple[str, dict[str, Any]]]:
    """What the owners will be told, as committed."""
    await session.execute(text("RESET ROLE"))
    rows = await session.execute(
        select(OutboxMessage.task, OutboxMessage.payload).order_by(OutboxMessage.id)
    )
    return [(task, payload) for task, payload in rows.all()]


def event_of(type_: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_{type_}_{obj['id']}",
        "object": "event",
        "type": type_,
        "created": int(time.time()),
        "data": {"object": obj},
    }


async def test_a_dispute_of_a_checkout_payment_finds_our_payment_and_alerts_the_owners(
    committing_client: AsyncClient,
    stripe_double: StripeDouble,
    settings_on_double: Settings,
    db_session: AsyncSession,
) -> None:
    """A dispute names only the PaymentIntent, which Checkout makes: our ids reach it through
    the session's `payment_intent_data.metadata`."""
    client = committing_client
    tenant = await new_tenant(client)
    payment = await start_checkout(client, tenant)
    stripe_double.complete_checkout_session(payment["stripe_checkout_session_id"])
    [completed] = stripe_double.events("checkout.session.completed")
    assert await deliver(client, completed) == 200
    assert await run_worker(settings_on_double) == 1
    intent = stripe_double.get(
        (await payment_now(client, tenant, payment))["stripe_payment_intent_id"]
    )
    assert intent["metadata"] == {
        "organization_id": str(tenant.id),
        "payment_id": str(payment["id"]),
    }

    dispute = stripe_double.open_dispute(intent["latest_charge"])
    [opened] = stripe_double.events("charge.dispute.created")
    assert await deliver(client, opened) == 200
    assert await run_worker(settings_on_double) == 1

    ids = {"organization_id": tenant.id, "payment_id": payment["id"]}
    assert await outbox(db_session) == [
        ("send_payment_receipt", ids),
        ("send_dispute_alert", {**ids, "dispute_id": dispute["id"]}),
    ]


async def test_an_intent_event_of_a_checkout_payment_leaves_it_to_the_session(
    committing_client: AsyncClient, stripe_double: StripeDouble, settings_on_double: Settings
) -> None:
    """The intent's `succeeded` may come first: the session's event, which checks the very
    session and records the intent that refunds need, still settles the payment."""
    client = committing_client
    tenant = await new_tenant(client)
    payment = await start_checkout(client, tenant)
    stripe_double.complete_checkout_session(payment["stripe_checkout_session_id"])
    [succeeded] = stripe_double.events("payment_intent.succeeded")
    [completed] = stripe_double.events("checkout.session.completed")

    assert await deliver(client, succeeded) == 200
    assert await run_worker(settings_on_double) == 1
    assert (await payment_now(client, tenant, payment))["status"] == "pending"
    assert await deliver(client, completed) == 200
    assert await run_worker(settings_on_double) == 1

    paid = await payment_now(client, tenant, payment)
    assert paid["status"] == "succeeded"
    assert paid["stripe_payment_intent_id"] == succeeded["data"]["object"]["id"]


async def test_a_delayed_payment_that_succeeds_fulfils_the_payment(
    committing_client: AsyncClient, stripe_double: StripeDouble, settings_on_double: Settings
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    payment = await start_checkout(client, tenant)
    paid_session = stripe_double.complete_checkout_session(payment["stripe_checkout_session_id"])

    event = event_of("checkout.session.async_payment_succeeded", paid_session)
    assert await deliver(client, event) == 200
    assert await run_worker(settings_on_double) == 1

    paid = await payment_now(client, tenant, payment)
    assert (paid["status"], paid["credits_granted"]) == ("succeeded", 500)


async def test_a_delayed_payment_that_fails_fails_the_payment_and_tells_the_owners(
    committing_client: AsyncClient,
    stripe_double: StripeDouble,
    settings_on_double: Settings,
    db_session: AsyncSession,
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    payment = await start_checkout(client, tenant)
    # As Stripe has a session whose bank debit failed after the customer completed it (the
    # double has no delayed payment methods): complete, and never paid.
    session = stripe_double.get(payment["stripe_checkout_session_id"])
    with stripe_double.store.lock:
        session.update(status="complete", url=None)
    event = event_of("checkout.session.async_payment_failed", session)

    for _ in range(2):  # delivered twice, with a retry of its handling between
        assert await deliver(client, {**event, "id": f"{event['id']}_{_}"}) == 200
        assert await run_worker(settings_on_double) == 1

    failed = await payment_now(client, tenant, payment)
    assert (failed["status"], failed["credits_granted"]) == ("failed", 0)
    ids = {"organization_id": tenant.id, "payment_id": payment["id"]}
    assert await outbox(db_session) == [("send_payment_failed", ids)]
