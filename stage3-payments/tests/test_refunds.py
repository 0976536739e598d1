"""Refunds: full and partial, never more than was captured, also when two arrive at once."""

import asyncio
import json
from typing import Any

import pytest
import stripe
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.config import Settings
from billing.stripe_gateway import StripeGateway
from billing.webhooks import handlers
from roadmap_shared.database import Database
from tests.factories import (
    Tenant,
    confirm_with_card,
    new_tenant,
    paid_payment,
    start_payment,
    stripe_event,
)


def refunds_url(tenant: Tenant, payment: dict[str, Any]) -> str:
    return f"/organizations/{tenant.id}/payments/{payment['id']}/refunds"


@pytest.fixture
async def paid(
    client: AsyncClient, stripe_client: stripe.StripeClient, db_session: AsyncSession, app: FastAPI
) -> tuple[Tenant, dict[str, Any]]:
    tenant = await new_tenant(client)
    payment = await paid_payment(
        client,
        stripe_client=stripe_client,
        session=db_session,
        gateway=app.state.stripe_gateway,
        tenant=tenant,
    )
    return tenant, payment


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
    committing_client: AsyncClient, stripe_client: stripe.StripeClient, settings: Settings
) -> None:
    """Two owners refund 700 of a 1000 charge at the same moment, each on its own
    connection: one gets 201, the other 409, and Stripe is asked once."""
    client = committing_client
    tenant = await new_tenant(client)
    payment = await start_payment(client, tenant)
    intent = await confirm_with_card(stripe_client, payment["stripe_payment_intent_id"])
    database = Database(settings.database_url)
    gateway = StripeGateway(settings)
    try:
        async with database.sessionmaker() as session, session.begin():
            event = json.loads(stripe_event("payment_intent.succeeded", intent))
            await handlers.handle(session, gateway, event)
    finally:
        await gateway.close()
        await database.dispose()

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
