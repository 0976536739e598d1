"""Exercise 1 (easy): a refunds list. `make exercise STAGE=stage3-payments N=1`

On the shared Stripe double, which takes Stripe's refund `reason` (localstripe refuses it)."""

import json
from typing import Any

import pytest
import stripe
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from billing.config import Settings
from billing.main import create_app
from billing.webhooks import handlers
from roadmap_shared.testing.stripe_double import StripeDouble
from tests.conftest import STRIPE_API_KEY
from tests.factories import Tenant, new_tenant, start_payment, stripe_event

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 1: GET /organizations/{id}/payments/{payment_id}/refunds lists a payment's "
    "refunds, newest first, for owners and admins (see the README)"
)


@pytest.fixture
def app(settings_on_double: Settings, redis_client: Redis) -> FastAPI:
    return create_app(settings_on_double)


@pytest.fixture
def stripe_client(stripe_double: StripeDouble) -> stripe.StripeClient:
    """Stripe.js, on the double."""
    return stripe.StripeClient(
        STRIPE_API_KEY,
        base_addresses={"api": stripe_double.base_url},
        http_client=stripe.HTTPXClient(timeout=10),
    )


def refunds_url(tenant: Tenant, payment: dict[str, Any]) -> str:
    return f"/organizations/{tenant.id}/payments/{payment['id']}/refunds"


async def paid_payment(
    client: AsyncClient,
    *,
    stripe_client: stripe.StripeClient,
    session: AsyncSession,
    app: FastAPI,
    tenant: Tenant,
) -> dict[str, Any]:
    """A payment confirmed with a card at the double, fulfilled from Stripe's event in the
    test's own transaction."""
    payment = await start_payment(client, tenant)
    intent = await stripe_client.v1.payment_intents.confirm_async(
        payment["stripe_payment_intent_id"], {"payment_method": "pm_card_visa"}
    )
    event = json.loads(stripe_event("payment_intent.succeeded", intent.to_dict()))
    await handlers.handle(session, app.state.stripe_gateway, event)
    response = await client.get(
        f"/organizations/{tenant.id}/payments/{payment['id']}", headers=tenant.owner
    )
    assert response.json()["status"] == "succeeded", response.text
    paid: dict[str, Any] = response.json()
    return paid


async def a_paid_payment(
    client: AsyncClient, stripe_client: stripe.StripeClient, session: AsyncSession, app: FastAPI
) -> tuple[Tenant, dict[str, Any]]:
    tenant = await new_tenant(client)
    payment = await paid_payment(
        client, stripe_client=stripe_client, session=session, app=app, tenant=tenant
    )
    return tenant, payment


async def test_the_refunds_of_a_payment_newest_first(
    client: AsyncClient, stripe_client: stripe.StripeClient, db_session: AsyncSession, app: FastAPI
) -> None:
    tenant, payment = await a_paid_payment(client, stripe_client, db_session, app)
    other = await paid_payment(
        client, stripe_client=stripe_client, session=db_session, app=app, tenant=tenant
    )
    url = refunds_url(tenant, payment)
    made = []
    for amount in (100, 200, 300):
        response = await client.post(
            url, json={"amount": amount, "reason": "requested_by_customer"}, headers=tenant.owner
        )
        assert response.status_code == 201, response.text
        made.append(response.json())

    for role in (tenant.owner, tenant.admin):
        listed = await client.get(url, headers=role)
        assert listed.status_code == 200, TODO
        assert listed.json() == list(reversed(made)), f"{TODO}: newest first, as created"
    assert (await client.get(refunds_url(tenant, other), headers=tenant.owner)).json() == [], (
        f"{TODO}: a payment without refunds has an empty list"
    )


async def test_only_owners_and_admins_of_the_organisation_see_them(
    client: AsyncClient, stripe_client: stripe.StripeClient, db_session: AsyncSession, app: FastAPI
) -> None:
    tenant, payment = await a_paid_payment(client, stripe_client, db_session, app)
    elsewhere, theirs = await a_paid_payment(client, stripe_client, db_session, app)
    url = refunds_url(tenant, payment)
    assert (await client.get(url, headers=tenant.owner)).status_code == 200, TODO

    refused = {
        "a member": (await client.get(url, headers=tenant.member)).status_code,
        "another organisation's owner": (
            await client.get(url, headers=elsewhere.owner)
        ).status_code,
        "someone not signed in": (await client.get(url)).status_code,
    }
    assert refused == {
        "a member": 403,
        "another organisation's owner": 404,
        "someone not signed in": 401,
    }, f"{TODO}: refused as every billing route refuses"
    # Their payment through our organisation's path: it does not exist here.
    crossed = f"/organizations/{tenant.id}/payments/{theirs['id']}/refunds"
    assert (await client.get(crossed, headers=tenant.owner)).status_code == 404, (
        f"{TODO}: another organisation's payment is not found"
    )
    missing = f"/organizations/{tenant.id}/payments/999999999/refunds"
    assert (await client.get(missing, headers=tenant.owner)).status_code == 404, TODO
