"""Refunds: full and partial, never more than was captured, also when two arrive at once;
Stripe's own `reason`, ours in metadata; a refund Stripe refuses gives its amount back.

On the shared Stripe double, which takes Stripe's `reason` parameter (localstripe refuses
it) and refuses an over-refund with Stripe's own error.
"""

import asyncio
import json
from typing import Any

import pytest
import stripe
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.config import Settings
from billing.main import create_app
from billing.models import Refund
from billing.stripe_gateway import StripeGateway
from billing.webhooks import handlers
from roadmap_shared.database import Database
from roadmap_shared.testing.stripe_double import StripeDouble
from tests.conftest import STRIPE_API_KEY
from tests.factories import Tenant, new_tenant, start_payment, stripe_event


@pytest.fixture
def settings_on_double(settings: Settings, stripe_double: StripeDouble) -> Settings:
    return settings.model_copy(update={"stripe_api_base": stripe_double.base_url})


@pytest.fixture
def app(settings_on_double: Settings, redis_client: Redis) -> FastAPI:
    return create_app(settings_on_double)


@pytest.fixture
def stripe_client(stripe_double: StripeDouble) -> stripe.StripeClient:
    """Stripe.js and the dashboard, on the double."""
    return stripe.StripeClient(
        STRIPE_API_KEY,
        base_addresses={"api": stripe_double.base_url},
        http_client=stripe.HTTPXClient(timeout=10),
    )


def refunds_url(tenant: Tenant, payment: dict[str, Any]) -> str:
    return f"/organizations/{tenant.id}/payments/{payment['id']}/refunds"


async def pay(stripe_client: stripe.StripeClient, payment_intent_id: str) -> dict[str, Any]:
    """What Stripe.js does in the customer's browser: confirm with a card."""
    intent = await stripe_client.v1.payment_intents.confirm_async(
        payment_intent_id, {"payment_method": "pm_card_visa"}
    )
    return intent.to_dict()


async def handle_as_the_worker(settings: Settings, event: bytes) -> None:
    """Handles a Stripe event on a connection of its own, committed, as the worker does."""
    database = Database(settings.database_url)
    gateway = StripeGateway(settings)
    try:
        async with database.sessionmaker() as session, session.begin():
            await handlers.handle(session, gateway, json.loads(event))
    finally:
        await gateway.close()
        await database.dispose()


async def paid_payment(
    client: AsyncClient, stripe_client: stripe.StripeClient, settings: Settings
) -> tuple[Tenant, dict[str, Any]]:
    """A payment of 1000, paid at Stripe and fulfilled from Stripe's event, all committed
    (use with `committing_client`)."""
    tenant = await new_tenant(client)
    payment = await start_payment(client, tenant)
    intent = await pay(stripe_client, payment["stripe_payment_intent_id"])
    await handle_as_the_worker(settings, stripe_event("payment_intent.succeeded", intent))
    response = await client.get(
        f"/organizations/{tenant.id}/payments/{payment['id']}", headers=tenant.owner
    )
    assert response.json()["status"] == "succeeded", response.text
    return tenant, response.json()


@pytest.fixture
async def paid(
    client: AsyncClient, stripe_client: stripe.StripeClient, db_session: AsyncSession, app: FastAPI
) -> tuple[Tenant, dict[str, Any]]:
    """A paid payment in the test's transaction (use with `client`)."""
    tenant = await new_tenant(client)
    payment = await start_payment(client, tenant)
    intent = await pay(stripe_client, payment["stripe_payment_intent_id"])
    event = json.loads(stripe_event("payment_intent.succeeded", intent))
    await handlers.handle(db_session, app.state.stripe_gateway, event)
    response = await client.get(
        f"/organizations/{tenant.id}/payments/{payment['id']}", headers=tenant.owner
    )
    assert response.json()["status"] == "succeeded", response.text
    return tenant, response.json()


async def test_a_partial_refund_then_the_rest(
    client: AsyncClient, stripe_client: stripe.StripeClient, paid: tuple[Tenant, dict[str, Any]]
) -> None:
    tenant, payment = paid
    partial = await client.post(
        refunds_url(tenant, payment),
        json={"amount": 300, "reason": "requested_by_customer"},
        headers=tenant.admin,
    )
    assert partial.status_code == 201, partial.text
    assert partial.json()["amount"] == 300
    assert partial.json()["status"] == "succeeded"
    rest = await client.post(
        refunds_url(tenant, payment), json={"reason": "duplicate"}, headers=tenant.owner
    )
    assert rest.status_code == 201, rest.text
    assert rest.json()["amount"] == 700

    refreshed = await client.get(
        f"/organizations/{tenant.id}/payments/{payment['id']}", headers=tenant.owner
    )
    assert refreshed.json()["amount_refunded"] == 1_000
    at_stripe = await stripe_client.v1.refunds.list_async(
        {"payment_intent": payment["stripe_payment_intent_id"]}
    )
    assert sorted(refund.amount for refund in at_stripe.data) == [300, 700]
    nothing_left = await client.post(
        refunds_url(tenant, payment), json={"reason": "duplicate"}, headers=tenant.owner
    )
    assert nothing_left.status_code == 409


async def test_more_than_what_is_left_is_a_conflict(
    client: AsyncClient, stripe_client: stripe.StripeClient, paid: tuple[Tenant, dict[str, Any]]
) -> None:
    tenant, payment = paid
    first = await client.post(
        refunds_url(tenant, payment),
        json={"amount": 700, "reason": "requested_by_customer"},
        headers=tenant.owner,
    )
    assert first.status_code == 201
    second = await client.post(
        refunds_url(tenant, payment),
        json={"amount": 700, "reason": "requested_by_customer"},
        headers=tenant.owner,
    )
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"
    # Stripe was never asked for the second one.
    at_stripe = await stripe_client.v1.refunds.list_async(
        {"payment_intent": payment["stripe_payment_intent_id"]}
    )
    assert [refund.amount for refund in at_stripe.data] == [700]


async def test_a_refund_too_large_for_the_total_is_a_conflict_not_a_500(
    client: AsyncClient, paid: tuple[Tenant, dict[str, Any]]
) -> None:
    # The largest amount the schema accepts, on a payment already partly refunded: the new
    # total would not fit in a bigint, which must still read as "too much", not a crash.
    tenant, payment = paid
    first = await client.post(
        refunds_url(tenant, payment),
        json={"amount": 300, "reason": "requested_by_customer"},
        headers=tenant.owner,
    )
    assert first.status_code == 201, first.text
    huge = await client.post(
        refunds_url(tenant, payment),
        json={"amount": 2**63 - 1, "reason": "requested_by_customer"},
        headers=tenant.owner,
    )
    assert huge.status_code == 409, huge.text
    assert huge.headers["content-type"] == "application/problem+json"


async def test_a_payment_that_did_not_succeed_cannot_be_refunded(client: AsyncClient) -> None:
    tenant = await new_tenant(client)
    payment = await start_payment(client, tenant)
    response = await client.post(
        refunds_url(tenant, payment), json={"reason": "duplicate"}, headers=tenant.owner
    )
    assert response.status_code == 409


async def test_an_unknown_payment_is_404(client: AsyncClient) -> None:
    tenant = await new_tenant(client)
    response = await client.post(
        refunds_url(tenant, {"id": 999_999}), json={"reason": "duplicate"}, headers=tenant.owner
    )
    assert response.status_code == 404


async def test_the_database_refuses_refunds_above_the_captured_amount(
    db_session: AsyncSession, paid: tuple[Tenant, dict[str, Any]]
) -> None:
    """Whatever the code does: the CHECK constraint is the last word."""
    _, payment = paid
    await db_session.execute(text("RESET ROLE"))
    with pytest.raises(IntegrityError, match="refunds_within_captured"):
        async with db_session.begin_nested():
            await db_session.execute(
                text("UPDATE payments SET amount_refunded = amount_captured + 1 WHERE id = :id"),
                {"id": payment["id"]},
            )


@pytest.mark.slow
async def test_two_simultaneous_refunds_cannot_exceed_the_charge(
    committing_client: AsyncClient,
    stripe_client: stripe.StripeClient,
    settings_on_double: Settings,
) -> None:
    """Two owners refund 700 of a 1000 charge at the same moment, each on its own
    connection: one gets 201, the other 409, and Stripe is asked once."""
    client = committing_client
    tenant, payment = await paid_payment(client, stripe_client, settings_on_double)

    responses = await asyncio.gather(
        *(
            client.post(
                refunds_url(tenant, payment),
                json={"amount": 700, "reason": "requested_by_customer"},
                headers=headers,
            )
            for headers in (tenant.owner, tenant.admin)
        )
    )

    assert sorted(response.status_code for response in responses) == [201, 409]
    refreshed = await client.get(
        f"/organizations/{tenant.id}/payments/{payment['id']}", headers=tenant.owner
    )
    assert refreshed.json()["amount_refunded"] == 700
    at_stripe = await stripe_client.v1.refunds.list_async(
        {"payment_intent": payment["stripe_payment_intent_id"]}
    )
    assert [refund.amount for refund in at_stripe.data] == [700]


async def test_stripes_reason_goes_as_stripes_parameter_and_our_note_in_metadata(
    client: AsyncClient, stripe_double: StripeDouble, paid: tuple[Tenant, dict[str, Any]]
) -> None:
    tenant, payment = paid
    response = await client.post(
        refunds_url(tenant, payment),
        json={"amount": 250, "reason": "duplicate", "note": "charged twice by the old form"},
        headers=tenant.owner,
    )

    assert response.status_code == 201, response.text
    assert (response.json()["reason"], response.json()["note"]) == (
        "duplicate",
        "charged twice by the old form",
    )
    [asked] = [r for r in stripe_double.requests if (r.method, r.path) == ("POST", "/v1/refunds")]
    assert asked.params["reason"] == "duplicate"
    assert asked.params["metadata"] == {
        "organization_id": str(tenant.id),
        "refund_id": str(response.json()["id"]),
        "note": "charged twice by the old form",
    }
    assert asked.idempotency_key == f"refund-{response.json()['id']}"


async def test_a_reason_that_is_not_stripes_is_a_422(
    client: AsyncClient, paid: tuple[Tenant, dict[str, Any]]
) -> None:
    tenant, payment = paid
    response = await client.post(
        refunds_url(tenant, payment), json={"reason": "changed my mind"}, headers=tenant.owner
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_refund_stripe_refuses_gives_the_amount_back(
    committing_client: AsyncClient,
    stripe_client: stripe.StripeClient,
    settings_on_double: Settings,
    db_session: AsyncSession,
) -> None:
    """600 was refunded from Stripe's dashboard, which we do not hear of here: asked for
    700 more, Stripe refuses as it would (more than is left on the charge). Our reserved
    700 is given back, and the refund is kept as failed. (Committed for real: the request
    that fails rolls back, the give-back must not.)"""
    client = committing_client
    tenant, payment = await paid_payment(client, stripe_client, settings_on_double)
    await stripe_client.v1.refunds.create_async(
        {"payment_intent": payment["stripe_payment_intent_id"], "amount": 600}
    )

    response = await client.post(
        refunds_url(tenant, payment),
        json={"amount": 700, "reason": "requested_by_customer"},
        headers=tenant.owner,
    )

    assert response.status_code == 502
    refreshed = await client.get(
        f"/organizations/{tenant.id}/payments/{payment['id']}", headers=tenant.owner
    )
    assert refreshed.json()["amount_refunded"] == 0
    await db_session.execute(text("RESET ROLE"))
    statuses = (await db_session.scalars(select(Refund.status))).all()
    assert statuses == ["failed"]
