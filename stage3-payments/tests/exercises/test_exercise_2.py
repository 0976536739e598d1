"""Exercise 2 (medium): disputes that close. `make exercise STAGE=stage3-payments N=2`

Every event goes the way Stripe's do: signed, through `POST /webhooks/stripe`, handled by
the worker, against the shared Stripe double (where disputes are opened and decided). The
worker runs on its own connections, so these tests commit (`committing_client`)."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis

from billing.config import Settings
from billing.main import create_app
from tests.exercises.stripe_side import StripeSide
from tests.factories import Tenant, new_tenant

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 2: handle charge.dispute.closed from the dispute as Stripe has it: won lifts "
    "the freeze (when no other dispute is open), lost records `amount_lost` on the payment "
    "and keeps the plan frozen until an owner POSTs .../payments/{id}/dispute/acknowledgement "
    "(see the README)"
)


@pytest.fixture
def app(settings_on_double: Settings, redis_client: Redis) -> FastAPI:
    return create_app(settings_on_double)


async def suspended(client: AsyncClient, tenant: Tenant) -> bool:
    response = await client.get(f"/organizations/{tenant.id}/entitlements", headers=tenant.member)
    assert response.status_code == 200, response.text
    return bool(response.json()["suspended"])


async def test_a_won_dispute_lifts_the_freeze_once_no_other_is_open(
    committing_client: AsyncClient, at_stripe: StripeSide
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    await at_stripe.subscribe(tenant)
    first, second = [at_stripe.open_dispute(await at_stripe.pay(tenant)) for _ in range(2)]
    for dispute in (first, second):
        await at_stripe.deliver(at_stripe.last_event("charge.dispute.created", dispute["id"]))
    await at_stripe.run_worker()
    assert await suspended(client, tenant)

    at_stripe.double.close_dispute(first["id"], won=True)
    await at_stripe.deliver(at_stripe.last_event("charge.dispute.closed", first["id"]))
    await at_stripe.run_worker()
    assert await suspended(client, tenant), f"{TODO}: the other dispute is still open"

    at_stripe.double.close_dispute(second["id"], won=True)
    await at_stripe.deliver(at_stripe.last_event("charge.dispute.closed", second["id"]))
    await at_stripe.run_worker()
    assert not await suspended(client, tenant), f"{TODO}: both disputes were won"


async def test_a_lost_dispute_is_recorded_once_and_frozen_until_an_owner_acknowledges(
    committing_client: AsyncClient, at_stripe: StripeSide
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    await at_stripe.subscribe(tenant)
    payment = await at_stripe.pay(tenant)
    dispute = at_stripe.open_dispute(payment)
    await at_stripe.deliver(at_stripe.last_event("charge.dispute.created", dispute["id"]))
    await at_stripe.run_worker()

    at_stripe.double.close_dispute(dispute["id"], won=False)
    closed = at_stripe.last_event("charge.dispute.closed", dispute["id"])
    await at_stripe.deliver(closed)
    # The same news again under another event id (as a resend from the dashboard would be).
    await at_stripe.deliver({**closed, "id": f"{closed['id']}_resent"})
    await at_stripe.run_worker()

    lost = await at_stripe.payment(tenant, payment["id"])
    assert lost.get("amount_lost") == dispute["amount"], f"{TODO}: recorded exactly once"
    assert await suspended(client, tenant), f"{TODO}: lost, and not yet acknowledged"

    url = f"/organizations/{tenant.id}/payments/{payment['id']}/dispute/acknowledgement"
    refused = [
        (await client.post(url, headers=h)).status_code for h in (tenant.admin, tenant.member, {})
    ]
    assert refused == [403, 403, 401], f"{TODO}: only an owner acknowledges a loss"
    assert await suspended(client, tenant)
    acknowledged = await client.post(url, headers=tenant.owner)
    assert acknowledged.status_code == 200, f"{TODO}\n{acknowledged.text}"
    assert not await suspended(client, tenant), f"{TODO}: acknowledged, the plan is back"
    again = await client.post(url, headers=tenant.owner)
    assert again.status_code == 409, f"{TODO}: nothing is left to acknowledge"


async def test_a_dispute_closed_before_its_creation_arrives_freezes_nothing(
    committing_client: AsyncClient, at_stripe: StripeSide
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    await at_stripe.subscribe(tenant)
    dispute = at_stripe.open_dispute(await at_stripe.pay(tenant))
    at_stripe.double.close_dispute(dispute["id"], won=True)

    # Delivered late and out of order: the closing first, the opening after it.
    await at_stripe.deliver(at_stripe.last_event("charge.dispute.closed", dispute["id"]))
    await at_stripe.run_worker()
    await at_stripe.deliver(at_stripe.last_event("charge.dispute.created", dispute["id"]))
    await at_stripe.run_worker()

    assert not await suspended(client, tenant), (
        f"{TODO}: the dispute, read again from Stripe, is already won"
    )
