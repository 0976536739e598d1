"""Exercise 3 (hard): authorise now, capture later. `make exercise STAGE=stage3-payments N=3`

On the shared Stripe double, which holds a `capture_method=manual` payment's amount until it
is captured; events go signed through `POST /webhooks/stripe` to the worker. The requests
and the worker commit for real (`committing_client`, `committed_session`)."""

import asyncio
import importlib
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from billing.config import Settings
from billing.main import create_app
from billing.worker import Context, _shutdown, _startup
from tests.exercises.stripe_side import StripeSide
from tests.factories import Tenant, new_tenant

pytestmark = pytest.mark.exercise
TODO = (
    "Exercise 3: POST .../payments {product, capture_method: manual} authorises only; the "
    "verified payment_intent.amount_capturable_updated makes ours `authorised`; owners and "
    "admins POST .../payments/{id}/capture {amount?} once; credits follow "
    "payment_intent.succeeded; `billing.worker.cancel_stale_authorisations(ctx)` cancels "
    "those older than PAYMENTS_AUTHORISATION_DAYS (see the README)"
)


@pytest.fixture
def app(settings_on_double: Settings, redis_client: Redis) -> FastAPI:
    return create_app(settings_on_double)


async def authorised(at_stripe: StripeSide, tenant: Tenant) -> dict[str, Any]:
    """A credits_500 payment (4,500) the customer confirmed with a card: held, not taken."""
    response = await at_stripe.client.post(
        f"/organizations/{tenant.id}/payments",
        json={"product": "credits_500", "capture_method": "manual"},
        headers=tenant.owner,
    )
    assert response.status_code == 201, f"{TODO}\n{response.text}"
    payment: dict[str, Any] = response.json()
    intent_id = payment["stripe_payment_intent_id"]
    assert at_stripe.double.get(intent_id)["capture_method"] == "manual", TODO
    await at_stripe.confirm_with_card(payment)
    await at_stripe.deliver(
        at_stripe.last_event("payment_intent.amount_capturable_updated", intent_id)
    )
    await at_stripe.run_worker()
    held = await at_stripe.payment(tenant, payment["id"])
    assert (held["status"], held["credits_granted"]) == ("authorised", 0), TODO
    return held


def capture_url(tenant: Tenant, payment: dict[str, Any]) -> str:
    return f"/organizations/{tenant.id}/payments/{payment['id']}/capture"


async def test_a_partial_capture_grants_credits_only_once_stripe_says_succeeded(
    committing_client: AsyncClient, at_stripe: StripeSide
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    held = await authorised(at_stripe, tenant)

    captured = await client.post(
        capture_url(tenant, held), json={"amount": 3_000}, headers=tenant.admin
    )
    assert captured.status_code == 200, f"{TODO}\n{captured.text}"
    assert captured.json()["credits_granted"] == 0, f"{TODO}: not before Stripe's event"
    intent = at_stripe.double.get(held["stripe_payment_intent_id"])
    assert (intent["status"], intent["amount_received"]) == ("succeeded", 3_000), TODO

    await at_stripe.deliver(at_stripe.last_event("payment_intent.succeeded", intent["id"]))
    await at_stripe.run_worker()
    paid = await at_stripe.payment(tenant, held["id"])
    assert (paid["status"], paid["amount_captured"]) == ("succeeded", 3_000), TODO
    # Credits in proportion to what was taken, rounded down: 500 x 3,000 / 4,500.
    assert paid["credits_granted"] == 333, f"{TODO}: credits for the amount captured"


async def test_two_captures_at_once_one_succeeds_one_is_409(
    committing_client: AsyncClient, at_stripe: StripeSide
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    held = await authorised(at_stripe, tenant)
    # Stripe answers the first capture slowly (it takes effect at once): the second arrives
    # while it is still being made.
    intent_path = f"/v1/payment_intents/{held['stripe_payment_intent_id']}"
    at_stripe.double.fail_next("POST", f"{intent_path}/capture", timeout=True)

    responses = await asyncio.gather(
        client.post(capture_url(tenant, held), json={}, headers=tenant.owner),
        client.post(capture_url(tenant, held), json={}, headers=tenant.admin),
    )

    assert sorted(r.status_code for r in responses) == [200, 409], TODO
    captures = [r for r in at_stripe.double.requests if r.path.endswith("/capture")]
    assert len(captures) == 1, f"{TODO}: the second never reaches Stripe"
    again = await client.post(capture_url(tenant, held), json={}, headers=tenant.owner)
    assert again.status_code == 409, f"{TODO}: captured once"


async def test_only_owners_and_admins_capture_an_authorised_payment(
    committing_client: AsyncClient, at_stripe: StripeSide
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    elsewhere = await new_tenant(client, "Elsewhere")
    held = await authorised(at_stripe, tenant)
    url = capture_url(tenant, held)
    refused = [
        (await client.post(url, json={}, headers=h)).status_code
        for h in (tenant.member, elsewhere.owner, {})
    ]
    assert refused == [403, 404, 401], f"{TODO}: refused as every billing route refuses"
    too_much = await client.post(url, json={"amount": 4_501}, headers=tenant.owner)
    assert too_much.status_code == 422, f"{TODO}: never more than was authorised"

    automatic = await client.post(
        f"/organizations/{tenant.id}/payments",
        json={"product": "credits_100"},
        headers=tenant.owner,
    )
    not_held = await client.post(
        capture_url(tenant, automatic.json()), json={}, headers=tenant.owner
    )
    assert not_held.status_code == 409, f"{TODO}: only an authorised payment is captured"


async def test_the_worker_cancels_authorisations_older_than_the_setting(
    committing_client: AsyncClient,
    committed_session: AsyncSession,
    at_stripe: StripeSide,
    settings_on_double: Settings,
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    old, recent = [await authorised(at_stripe, tenant) for _ in range(2)]
    days = settings_on_double.model_dump().get("authorisation_days")
    assert isinstance(days, int), f"{TODO}: a setting `authorisation_days`"
    await committed_session.execute(
        text(
            "UPDATE payments SET created_at = created_at - make_interval(hours => :hours) "
            "WHERE id = :id"
        ),
        {"hours": days * 24 + 1, "id": old["id"]},
    )
    await committed_session.commit()

    worker = importlib.import_module("billing.worker")
    assert hasattr(worker, "cancel_stale_authorisations"), TODO
    ctx: Context = {"settings": settings_on_double}
    await _startup(ctx)
    try:
        await worker.cancel_stale_authorisations(ctx)
    finally:
        await _shutdown(ctx)

    assert at_stripe.double.get(old["stripe_payment_intent_id"])["status"] == "canceled", TODO
    assert (await at_stripe.payment(tenant, old["id"]))["status"] == "canceled", TODO
    assert at_stripe.double.get(recent["stripe_payment_intent_id"])["status"] == "requires_capture"
    assert (await at_stripe.payment(tenant, recent["id"]))["status"] == "authorised"
