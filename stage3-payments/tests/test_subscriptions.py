"""Subscriptions from Stripe's events, in any order; entitlements derived in one place and
enforced on projects."""

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe
from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import Organization, OutboxMessage, Subscription, SubscriptionStatus
from billing.subscriptions.entitlements import entitlements_for
from billing.webhooks import handlers
from tests.factories import Tenant, confirm_with_card, new_tenant, paid_payment, stripe_event

GRACE = timedelta(days=7)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def subscription(**values: Any) -> Subscription:
    defaults: dict[str, Any] = {
        "plan": "pro",
        "status": SubscriptionStatus.ACTIVE,
        "seats": 1,
        "frozen_by_dispute": False,
        "past_due_since": None,
    }
    return Subscription(**(defaults | values))


# --- entitlements: the one place they are derived ------------------------------------------


@pytest.mark.parametrize(
    ("values", "plan", "max_projects", "suspended"),
    [
        ({"status": SubscriptionStatus.ACTIVE}, "pro", 10, False),
        ({"status": SubscriptionStatus.TRIALING}, "pro", 10, False),
        (
            {"status": SubscriptionStatus.PAST_DUE, "past_due_since": NOW - timedelta(days=1)},
            "pro",
            10,
            False,
        ),
        (
            {"status": SubscriptionStatus.PAST_DUE, "past_due_since": NOW - timedelta(days=8)},
            "pro",
            1,
            True,
        ),
        ({"status": SubscriptionStatus.UNPAID}, "pro", 1, True),
        ({"status": SubscriptionStatus.ACTIVE, "frozen_by_dispute": True}, "pro", 1, True),
        ({"status": SubscriptionStatus.CANCELED}, "free", 1, False),
        ({"status": SubscriptionStatus.INCOMPLETE_EXPIRED}, "free", 1, False),
        ({"plan": "unknown"}, "free", 1, False),
    ],
)
def test_entitlements_follow_the_subscription_state(
    values: dict[str, Any], plan: str, max_projects: int, suspended: bool
) -> None:
    granted = entitlements_for(subscription(**values), now=NOW, grace=GRACE)
    assert (granted.plan, granted.max_projects, granted.suspended) == (
        plan,
        max_projects,
        suspended,
    )


def test_no_subscription_is_the_free_plan() -> None:
    granted = entitlements_for(None, now=NOW, grace=GRACE)
    assert (granted.plan, granted.max_projects, granted.paid_features) == ("free", 1, False)


def test_team_seats_are_the_quantity_paid_for() -> None:
    granted = entitlements_for(subscription(plan="team", seats=12), now=NOW, grace=GRACE)
    assert granted.max_seats == 12


# --- subscription events ------------------------------------------------------------------


def subscription_object(tenant: Tenant, **values: Any) -> dict[str, Any]:
    return {
        "id": f"sub_{tenant.id}",
        "object": "subscription",
        "customer": f"cus_org_{tenant.id}",
        "status": "active",
        "quantity": 1,
        "cancel_at_period_end": False,
        "current_period_end": int(time.time()) + 30 * 86400,
        "metadata": {"organization_id": str(tenant.id), "plan": "pro", "interval": "month"},
        **values,
    }


async def handle(
    session: AsyncSession, app: FastAPI, type_: str, obj: dict[str, Any], created: int
) -> None:
    event = json.loads(stripe_event(type_, obj, created=created))
    await handlers.handle(session, app.state.stripe_gateway, event)


async def give_customer(session: AsyncSession, tenant: Tenant) -> None:
    await session.execute(text("RESET ROLE"))
    await session.execute(
        update(Organization)
        .where(Organization.id == tenant.id)
        .values(stripe_customer_id=f"cus_org_{tenant.id}")
    )


async def customer_of(session: AsyncSession, tenant: Tenant) -> str:
    await session.execute(text("RESET ROLE"))
    customer = await session.scalar(
        select(Organization.stripe_customer_id).where(Organization.id == tenant.id)
    )
    assert customer is not None
    return customer


async def stored(session: AsyncSession, tenant: Tenant) -> Subscription:
    await session.execute(text("RESET ROLE"))
    session.expire_all()
    row = await session.scalar(
        select(Subscription).where(Subscription.organization_id == tenant.id)
    )
    assert row is not None
    return row


async def entitlements(client: AsyncClient, tenant: Tenant) -> dict[str, Any]:
    response = await client.get(f"/organizations/{tenant.id}/entitlements", headers=tenant.member)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def lifecycle(tenant: Tenant, base: int) -> list[tuple[str, dict[str, Any], int]]:
    """One subscription's life as Stripe reports it, oldest first: created in a trial,
    three changes, a renewal that fails then is paid, and the cancellation."""
    invoice = {"object": "invoice", "customer": f"cus_org_{tenant.id}"}
    invoice["subscription"] = f"sub_{tenant.id}"
    return [
        ("customer.subscription.created", subscription_object(tenant, status="trialing"), base),
        ("customer.subscription.updated", subscription_object(tenant), base + 10),
        ("customer.subscription.updated", subscription_object(tenant, quantity=5), base + 20),
        (
            "customer.subscription.updated",
            subscription_object(tenant, quantity=3, cancel_at_period_end=True),
            base + 30,
        ),
        ("invoice.payment_failed", {**invoice, "id": "in_failed"}, base + 40),
        ("invoice.paid", {**invoice, "id": "in_paid"}, base + 50),
        (
            "customer.subscription.deleted",
            subscription_object(tenant, status="canceled", quantity=3, cancel_at_period_end=True),
            base + 60,
        ),
    ]


LIFECYCLE_EVENTS = 7
BASE = int(time.time())


async def organization_with_customer(session: AsyncSession) -> Tenant:
    """An organisation and its Stripe customer, straight into the table: the examples of a
    property need many, and only their ids matter to the events."""
    await session.execute(text("RESET ROLE"))
    organization = Organization(name="Acme")
    session.add(organization)
    await session.flush()
    organization.stripe_customer_id = f"cus_org_{organization.id}"
    await session.flush()
    return Tenant(organization.id, owner={}, admin={}, member={})


# Each example is a new organisation in the test's one transaction (rolled back at the end):
# the function-scoped fixture is meant to be shared by the examples.
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(order=st.permutations(range(LIFECYCLE_EVENTS)))
async def test_events_in_every_order_give_the_same_final_state(
    db_session: AsyncSession, app: FastAPI, order: list[int]
) -> None:
    tenant = await organization_with_customer(db_session)
    events = lifecycle(tenant, BASE)

    for index in order:
        await handle(db_session, app, *events[index])

    row = await stored(db_session, tenant)
    final = (row.status, row.seats, row.cancel_at_period_end, row.past_due_since)
    assert final == (SubscriptionStatus.CANCELED, 3, True, None)
    assert row.last_event_created == BASE + 60


async def test_a_deleted_subscription_stays_deleted_whatever_arrives_late(
    client: AsyncClient, db_session: AsyncSession, app: FastAPI
) -> None:
    tenant = await new_tenant(client)
    await give_customer(db_session, tenant)
    base = int(time.time())
    await handle(
        db_session, app, "customer.subscription.deleted", subscription_object(tenant), base + 5
    )
    await handle(
        db_session, app, "customer.subscription.updated", subscription_object(tenant), base
    )
    assert (await stored(db_session, tenant)).status is SubscriptionStatus.CANCELED
    assert (await entitlements(client, tenant))["plan"] == "free"


async def test_dunning_past_due_then_suspended_then_restored(
    client: AsyncClient, db_session: AsyncSession, app: FastAPI
) -> None:
    tenant = await new_tenant(client)
    await give_customer(db_session, tenant)
    base = int(time.time())
    await handle(
        db_session,
        app,
        "customer.subscription.created",
        subscription_object(tenant),
        base - 30 * 86400,
    )
    invoice = {
        "id": "in_1",
        "object": "invoice",
        "customer": f"cus_org_{tenant.id}",
        "subscription": f"sub_{tenant.id}",
    }

    await handle(db_session, app, "invoice.payment_failed", invoice, base - 86400)
    row = await stored(db_session, tenant)
    assert row.status is SubscriptionStatus.PAST_DUE
    granted = await entitlements(client, tenant)
    assert (granted["plan"], granted["max_projects"], granted["suspended"]) == ("pro", 10, False)

    # Past the grace period (the first failure was eight days ago): suspended.
    await db_session.execute(
        update(Subscription)
        .where(Subscription.id == row.id)
        .values(past_due_since=datetime.now(UTC) - timedelta(days=8))
    )
    granted = await entitlements(client, tenant)
    assert (granted["max_projects"], granted["suspended"]) == (1, True)

    await handle(db_session, app, "invoice.paid", {**invoice, "id": "in_2"}, base)
    granted = await entitlements(client, tenant)
    assert (granted["max_projects"], granted["suspended"]) == (10, False)
    assert (await stored(db_session, tenant)).past_due_since is None


async def test_the_plan_limits_projects_and_an_upgrade_lifts_the_limit(
    client: AsyncClient, db_session: AsyncSession, app: FastAPI
) -> None:
    tenant = await new_tenant(client)
    await give_customer(db_session, tenant)
    url = f"/organizations/{tenant.id}/projects"
    first = await client.post(url, json={"name": "One"}, headers=tenant.member)
    assert first.status_code == 201, first.text
    refused = await client.post(url, json={"name": "Two"}, headers=tenant.member)
    assert refused.status_code == 403
    assert "free plan" in refused.json()["detail"]

    await handle(
        db_session,
        app,
        "customer.subscription.created",
        subscription_object(tenant),
        int(time.time()),
    )
    assert (await client.post(url, json={"name": "Two"}, headers=tenant.member)).status_code == 201
    listed = await client.get(url, headers=tenant.member)
    assert [project["name"] for project in listed.json()] == ["One", "Two"]


async def test_a_dispute_freezes_the_paid_plan(
    client: AsyncClient,
    db_session: AsyncSession,
    app: FastAPI,
    stripe_client: stripe.StripeClient,
) -> None:
    tenant = await new_tenant(client)
    # The payment first: it makes the organisation's customer at the emulator, which the
    # subscription then belongs to.
    paid = await paid_payment(
        client,
        stripe_client=stripe_client,
        session=db_session,
        gateway=app.state.stripe_gateway,
        tenant=tenant,
    )
    await handle(
        db_session,
        app,
        "customer.subscription.created",
        subscription_object(tenant, customer=await customer_of(db_session, tenant)),
        int(time.time()),
    )
    assert (await entitlements(client, tenant))["suspended"] is False
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 1_000,
        "payment_intent": paid["stripe_payment_intent_id"],
    }
    await handle(db_session, app, "charge.dispute.created", dispute, int(time.time()))
    granted = await entitlements(client, tenant)
    assert (granted["plan"], granted["max_projects"], granted["suspended"]) == ("pro", 1, True)


async def test_a_dispute_of_an_intent_we_did_not_make_freezes_nothing(
    client: AsyncClient,
    db_session: AsyncSession,
    app: FastAPI,
    stripe_client: stripe.StripeClient,
) -> None:
    """An intent made elsewhere on the account, whose metadata names an organisation of
    ours, is disputed: that organisation paid nothing through it, so it keeps its plan and
    its owners are told nothing."""
    tenant = await new_tenant(client)
    await give_customer(db_session, tenant)
    await handle(
        db_session,
        app,
        "customer.subscription.created",
        subscription_object(tenant),
        int(time.time()),
    )
    elsewhere = await stripe_client.v1.payment_intents.create_async(
        {"amount": 1_000, "currency": "eur", "metadata": {"organization_id": str(tenant.id)}}
    )
    await confirm_with_card(stripe_client, elsewhere.id)
    dispute = {"id": "dp_elsewhere", "object": "dispute", "payment_intent": elsewhere.id}
    await handle(db_session, app, "charge.dispute.created", dispute, int(time.time()))

    granted = await entitlements(client, tenant)
    assert (granted["plan"], granted["suspended"]) == ("pro", False)
    await db_session.execute(text("RESET ROLE"))
    alerts = await db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.task == "send_dispute_alert")
    )
    assert [m.payload for m in alerts if m.payload["organization_id"] == tenant.id] == []


async def test_a_subscription_naming_another_organisation_grants_it_nothing(
    client: AsyncClient, db_session: AsyncSession, app: FastAPI
) -> None:
    """The organisation is the one whose Stripe customer pays: a subscription of A's
    customer whose metadata names B (made in the dashboard, or by another integration)
    gives B no plan; nor does one of a customer we do not know."""
    payer, other = await new_tenant(client, "Payer"), await new_tenant(client, "Other")
    await give_customer(db_session, payer)
    await give_customer(db_session, other)
    metadata = {"organization_id": str(other.id), "plan": "team", "interval": "month"}
    for customer in (f"cus_org_{payer.id}", "cus_unknown"):
        await handle(
            db_session,
            app,
            "customer.subscription.created",
            subscription_object(other, id=f"sub_{customer}", customer=customer, metadata=metadata),
            int(time.time()),
        )
    assert (await entitlements(client, other))["plan"] == "free"


async def test_an_invoice_of_the_current_api_version_starts_dunning(
    client: AsyncClient, db_session: AsyncSession, app: FastAPI
) -> None:
    """Since Stripe's API version 2025-03-31.basil, an invoice names its subscription only
    under `parent.subscription_details`: the top-level `subscription` is gone."""
    tenant = await new_tenant(client)
    await give_customer(db_session, tenant)
    base = int(time.time())
    await handle(
        db_session,
        app,
        "customer.subscription.created",
        subscription_object(tenant),
        base - 30 * 86400,
    )
    invoice = {
        "id": "in_basil",
        "object": "invoice",
        "customer": f"cus_org_{tenant.id}",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": f"sub_{tenant.id}", "metadata": {}},
        },
    }
    await handle(db_session, app, "invoice.payment_failed", invoice, base - 86400)

    row = await stored(db_session, tenant)
    assert row.status is SubscriptionStatus.PAST_DUE
    assert row.past_due_since is not None


async def test_a_subscription_whose_metadata_is_not_ours_grants_nothing_and_breaks_nothing(
    client: AsyncClient, db_session: AsyncSession, app: FastAPI
) -> None:
    """Metadata written elsewhere (the dashboard): a plan or an interval we do not sell is
    the free plan, and changing it is a 409, not a 500."""
    tenant = await new_tenant(client)
    await give_customer(db_session, tenant)
    for created, metadata in enumerate(
        [{"plan": "pro", "interval": "fortnight"}, {"plan": "enterprise", "interval": "month"}]
    ):
        await handle(
            db_session,
            app,
            "customer.subscription.updated",
            subscription_object(tenant, metadata={"organization_id": str(tenant.id), **metadata}),
            int(time.time()) + created,
        )
        assert (await entitlements(client, tenant))["plan"] == "free"
        changed = await client.patch(
            f"/organizations/{tenant.id}/subscription", json={"plan": "team"}, headers=tenant.owner
        )
        assert changed.status_code == 409, changed.text
