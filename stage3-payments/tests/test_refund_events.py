"""Refunds settled by Stripe's events: a refund left pending (Stripe's answer lost to a
timeout) becomes succeeded or failed from `charge.refunded` and `refund.updated`, and a
failed one gives its reserved amount back exactly once, whatever the order and however
often the events arrive. On the shared Stripe double (timeouts, failing a refund), with
every request committed for real, as in production.
"""

import itertools
import json
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
from billing.models import Refund
from roadmap_shared.testing.stripe_double import StripeDouble
from tests.conftest import STRIPE_API_KEY
from tests.factories import Tenant
from tests.test_refunds import handle_as_the_worker, paid_payment, refunds_url


@pytest.fixture
def settings_on_double(settings: Settings, stripe_double: StripeDouble) -> Settings:
    # Stripe's answer is awaited 0.5 s, once: a refund the double makes but answers late
    # is left pending by the request.
    return settings.model_copy(
        update={
            "stripe_api_base": stripe_double.base_url,
            "stripe_timeout_seconds": 0.5,
            "stripe_max_network_retries": 0,
        }
    )


@pytest.fixture
def app(settings_on_double: Settings, redis_client: Redis) -> FastAPI:
    return create_app(settings_on_double)


@pytest.fixture
def stripe_client(stripe_double: StripeDouble) -> stripe.StripeClient:
    return stripe.StripeClient(STRIPE_API_KEY, base_addresses={"api": stripe_double.base_url})


def as_bytes(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


async def refund_left_pending(
    client: AsyncClient, stripe_double: StripeDouble, tenant: Tenant, payment: dict[str, Any]
) -> None:
    """Asks for a refund of 400 that Stripe makes, but whose answer never arrives."""
    stripe_double.fail_next("POST", "/v1/refunds", timeout=True)
    response = await client.post(
        refunds_url(tenant, payment),
        json={"amount": 400, "reason": "requested_by_customer"},
        headers=tenant.owner,
    )
    assert response.status_code == 503


async def ours(client: AsyncClient, session: AsyncSession, tenant: Tenant, payment: Any) -> Any:
    """(the refund's status, its Stripe id, the payment's refunded total), as committed."""
    await session.execute(text("RESET ROLE"))
    refund = (
        await session.scalars(
            select(Refund)
            .where(Refund.payment_id == payment["id"])
            .execution_options(populate_existing=True)
        )
    ).one()
    response = await client.get(
        f"/organizations/{tenant.id}/payments/{payment['id']}", headers=tenant.owner
    )
    return refund.status, refund.stripe_refund_id, response.json()["amount_refunded"]


async def test_a_refund_left_pending_is_settled_by_its_event_once(
    committing_client: AsyncClient,
    stripe_client: stripe.StripeClient,
    stripe_double: StripeDouble,
    settings_on_double: Settings,
    db_session: AsyncSession,
) -> None:
    client = committing_client
    tenant, payment = await paid_payment(client, stripe_client, settings_on_double)

    await refund_left_pending(client, stripe_double, tenant, payment)

    # Committed before Stripe was asked: pending, its amount reserved.
    assert await ours(client, db_session, tenant, payment) == ("pending", None, 400)
    [made] = stripe_double.events("refund.created")
    [charge_refunded] = stripe_double.events("charge.refunded")
    for _ in range(2):  # Stripe delivers twice
        await handle_as_the_worker(settings_on_double, as_bytes(charge_refunded))
    refund_id = made["data"]["object"]["id"]
    assert await ours(client, db_session, tenant, payment) == ("succeeded", refund_id, 400)


async def test_a_failed_refund_gives_its_amount_back_once_in_any_order(
    committing_client: AsyncClient,
    stripe_client: stripe.StripeClient,
    stripe_double: StripeDouble,
    settings_on_double: Settings,
    db_session: AsyncSession,
) -> None:
    """The refund succeeds, then the bank returns it: Stripe's events for the two arrive in
    every order, some twice. Each is judged by the refund as Stripe has it now: failed,
    the 400 given back once, not twice (the CHECK would refuse a negative total)."""
    client = committing_client
    orders = set(itertools.permutations(["charge.refunded", "refund.updated", "refund.updated"]))
    for order in sorted(orders):
        tenant, payment = await paid_payment(client, stripe_client, settings_on_double)
        await refund_left_pending(client, stripe_double, tenant, payment)
        refund_id = stripe_double.events("refund.created")[-1]["data"]["object"]["id"]
        stripe_double.fail_refund(refund_id)
        latest = {kind: stripe_double.events(kind)[-1] for kind in set(order)}

        for kind in order:
            await handle_as_the_worker(settings_on_double, as_bytes(latest[kind]))

        settled = await ours(client, db_session, tenant, payment)
        assert settled == ("failed", refund_id, 0), order


async def test_a_refund_made_elsewhere_with_our_ids_settles_nothing(
    committing_client: AsyncClient,
    stripe_client: stripe.StripeClient,
    stripe_double: StripeDouble,
    settings_on_double: Settings,
    db_session: AsyncSession,
) -> None:
    """Our pending refund's ids, in the metadata of a refund of another payment that then
    fails: it is not ours, and gives nothing back."""
    client = committing_client
    tenant, payment = await paid_payment(client, stripe_client, settings_on_double)
    _, other = await paid_payment(client, stripe_client, settings_on_double)
    await refund_left_pending(client, stripe_double, tenant, payment)
    [ours_at_stripe] = stripe_double.events("refund.created")
    metadata = ours_at_stripe["data"]["object"]["metadata"]
    stranger = await stripe_client.v1.refunds.create_async(
        {"payment_intent": other["stripe_payment_intent_id"], "amount": 100, "metadata": metadata}
    )
    stripe_double.fail_refund(stranger.id)
    [stranger_updated] = stripe_double.events("refund.updated")

    await handle_as_the_worker(settings_on_double, as_bytes(stranger_updated))

    assert await ours(client, db_session, tenant, payment) == ("pending", None, 400)
