"""Starting and changing a subscription through the API, against the shared Stripe double
(localstripe has no Checkout in subscription mode nor Billing Portal).

Every change is asked of Stripe and granted only when its event is applied: each test
looks at what is granted before and after the events.
"""

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession
from stripe import StripeClient

from billing.config import Settings
from billing.main import create_app
from billing.models import Subscription
from billing.plans import Interval, PaidPlan
from billing.stripe_gateway import StripeGateway
from billing.subscriptions import service
from billing.worker import Context, _shutdown, _startup, process_inbox
from roadmap_shared.testing.stripe_double import RecordedRequest, StripeDouble
from tests.conftest import STRIPE_API_KEY, WEBHOOK_SECRET
from tests.factories import (
    Tenant,
    apply_stripe_events,
    new_tenant,
    plan_prices,
    subscribe,
)

SUBSCRIPTIONS = "/v1/subscriptions/"


@pytest.fixture
def settings_on_double(settings: Settings, stripe_double: StripeDouble) -> Settings:
    return settings.model_copy(
        update={
            "stripe_api_base": stripe_double.base_url,
            "plan_prices": plan_prices(stripe_double),
        }
    )


@pytest.fixture
def app(settings_on_double: Settings, redis_client: Redis) -> FastAPI:
    return create_app(settings_on_double)


@pytest.fixture
def gateway(app: FastAPI) -> StripeGateway:
    gateway: StripeGateway = app.state.stripe_gateway
    return gateway


def changes_at_stripe(double: StripeDouble) -> list[RecordedRequest]:
    """The subscription updates Stripe received, replays included."""
    return [r for r in double.requests if r.method == "POST" and r.path.startswith(SUBSCRIPTIONS)]


async def granted(client: AsyncClient, tenant: Tenant) -> dict[str, Any]:
    response = await client.get(f"/organizations/{tenant.id}/entitlements", headers=tenant.member)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def ours(client: AsyncClient, tenant: Tenant) -> dict[str, Any]:
    response = await client.get(f"/organizations/{tenant.id}/subscription", headers=tenant.member)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def change(client: AsyncClient, tenant: Tenant, body: dict[str, Any]) -> Any:
    return await client.patch(
        f"/organizations/{tenant.id}/subscription", json=body, headers=tenant.owner
    )


# --- starting a subscription -----------------------------------------------------------


async def test_checkout_uses_our_price_and_trial_and_grants_only_from_the_events(
    client: AsyncClient,
    stripe_double: StripeDouble,
    db_session: AsyncSession,
    gateway: StripeGateway,
    settings_on_double: Settings,
) -> None:
    tenant = await new_tenant(client)
    response = await client.post(
        f"/organizations/{tenant.id}/subscription/checkout",
        # A price named by the client is not a field of the request: it is ignored.
        json={"plan": "team", "interval": "year", "seats": 5, "price": "price_cheap"},
        headers=tenant.admin,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    checkout = stripe_double.get(created["stripe_checkout_session_id"])
    assert created["checkout_url"] == checkout["url"]
    assert checkout["mode"] == "subscription"
    [request] = [r for r in stripe_double.requests if r.path == "/v1/checkout/sessions"]
    assert request.params["line_items"] == [
        {"price": settings_on_double.plan_prices["team_year"], "quantity": "5"}
    ]
    assert request.params["subscription_data"]["trial_period_days"] == "14"
    assert request.idempotency_key == f"organization-{tenant.id}-subscription-1-team-year-5"

    # The customer's return to the success URL proves nothing: nothing is granted yet.
    assert (await granted(client, tenant))["plan"] == "free"
    missing = await client.get(f"/organizations/{tenant.id}/subscription", headers=tenant.member)
    assert missing.status_code == 404

    stripe_double.complete_checkout_session(created["stripe_checkout_session_id"])
    await apply_stripe_events(stripe_double, db_session, gateway)
    subscription = await ours(client, tenant)
    assert (subscription["plan"], subscription["interval"], subscription["seats"]) == (
        "team",
        "year",
        5,
    )
    assert subscription["status"] == "trialing"
    assert subscription["current_period_end"] is not None
    assert (await granted(client, tenant))["max_seats"] == 5


async def test_a_second_checkout_while_subscribed_is_a_conflict(
    client: AsyncClient,
    stripe_double: StripeDouble,
    db_session: AsyncSession,
    gateway: StripeGateway,
) -> None:
    tenant = await new_tenant(client)
    await subscribe(client, stripe_double, db_session, gateway, tenant)
    again = await client.post(
        f"/organizations/{tenant.id}/subscription/checkout",
        json={"plan": "team"},
        headers=tenant.owner,
    )
    assert again.status_code == 409
    assert "PATCH" in again.json()["detail"]


async def test_a_double_click_opens_one_checkout_session(
    client: AsyncClient, stripe_double: StripeDouble
) -> None:
    tenant = await new_tenant(client)
    url = f"/organizations/{tenant.id}/subscription/checkout"
    first = await client.post(url, json={"plan": "pro"}, headers=tenant.owner)
    second = await client.post(url, json={"plan": "pro"}, headers=tenant.owner)
    assert first.json() == second.json()
    assert [r.replayed for r in stripe_double.requests if r.path == "/v1/checkout/sessions"] == [
        False,
        True,
    ]


async def test_the_trial_is_given_once_per_organisation(
    client: AsyncClient,
    stripe_double: StripeDouble,
    db_session: AsyncSession,
    gateway: StripeGateway,
) -> None:
    tenant = await new_tenant(client)
    subscription_id = await subscribe(client, stripe_double, db_session, gateway, tenant)
    seen = len(stripe_double.events())
    # Canceled at once (from the dashboard, say): the organisation is back on the free plan.
    dashboard = StripeClient(STRIPE_API_KEY, base_addresses={"api": stripe_double.base_url})
    await dashboard.v1.subscriptions.cancel_async(subscription_id)
    await apply_stripe_events(stripe_double, db_session, gateway, after=seen)
    assert (await granted(client, tenant))["plan"] == "free"

    again = await client.post(
        f"/organizations/{tenant.id}/subscription/checkout",
        json={"plan": "pro"},
        headers=tenant.owner,
    )

    assert again.status_code == 201, again.text
    first, second = [r for r in stripe_double.requests if r.path == "/v1/checkout/sessions"]
    assert first.params["subscription_data"]["trial_period_days"] == "14"
    assert "trial_period_days" not in second.params["subscription_data"]
    assert second.idempotency_key == f"organization-{tenant.id}-subscription-2-pro-month-1"


async def test_seats_below_the_member_count_are_refused_before_stripe(
    client: AsyncClient,
    stripe_double: StripeDouble,
    db_session: AsyncSession,
    gateway: StripeGateway,
) -> None:
    tenant = await new_tenant(client)  # three members: owner, admin, member
    too_few = await client.post(
        f"/organizations/{tenant.id}/subscription/checkout",
        json={"plan": "team", "seats": 2},
        headers=tenant.owner,
    )
    assert too_few.status_code == 409
    assert "3 members" in too_few.json()["detail"]
    assert not [r for r in stripe_double.requests if r.path == "/v1/checkout/sessions"]

    await subscribe(
        client, stripe_double, db_session, gateway, tenant, body={"plan": "team", "seats": 4}
    )
    assert (await change(client, tenant, {"seats": 2})).status_code == 409
    assert changes_at_stripe(stripe_double) == []
    assert (await ours(client, tenant))["seats"] == 4


async def test_seats_on_a_flat_plan_are_refused(
    client: AsyncClient,
    stripe_double: StripeDouble,
    db_session: AsyncSession,
    gateway: StripeGateway,
) -> None:
    tenant = await new_tenant(client)
    refused = await client.post(
        f"/organizations/{tenant.id}/subscription/checkout",
        json={"plan": "pro", "seats": 4},
        headers=tenant.owner,
    )
    assert refused.status_code == 422
    await subscribe(client, stripe_double, db_session, gateway, tenant)
    # Not silently dropped from a change that is otherwise valid.
    assert (await change(client, tenant, {"interval": "year", "seats": 4})).status_code == 409
    assert changes_at_stripe(stripe_double) == []
    assert (await change(client, tenant, {})).status_code == 422


# --- changing it -----------------------------------------------------------------------


async def test_an_upgrade_is_invoiced_now_and_granted_from_its_event(
    client: AsyncClient,
    stripe_double: StripeDouble,
    db_session: AsyncSession,
    gateway: StripeGateway,
    settings_on_double: Settings,
) -> None:
    tenant = await new_tenant(client)
    subscription_id = await subscribe(client, stripe_double, db_session, gateway, tenant)
    seen = len(stripe_double.events())

    response = await change(client, tenant, {"plan": "team", "seats": 6})

    assert response.status_code == 202, response.text
    assert response.json()["requested"] == "team-month-6"
    assert response.json()["subscription"]["plan"] == "pro"  # what is granted until the event
    [request] = changes_at_stripe(stripe_double)
    assert request.path == SUBSCRIPTIONS + subscription_id
    assert request.params["proration_behavior"] == "always_invoice"
    assert request.params["items"][0]["price"] == settings_on_double.plan_prices["team_month"]
    assert request.params["metadata"] == {"plan": "team", "interval": "month"}
    assert (await granted(client, tenant))["plan"] == "pro"

    await apply_stripe_events(stripe_double, db_session, gateway, after=seen)
    upgraded = await granted(client, tenant)
    assert (upgraded["plan"], upgraded["max_seats"]) == ("team", 6)


async def test_a_downgrade_lowers_the_projects_limit_once_its_event_arrives(
    client: AsyncClient,
    stripe_double: StripeDouble,
    db_session: AsyncSession,
    gateway: StripeGateway,
) -> None:
    tenant = await new_tenant(client)
    await subscribe(client, stripe_double, db_session, gateway, tenant, body={"plan": "team"})
    projects = f"/organizations/{tenant.id}/projects"
    for number in range(10):
        created = await client.post(projects, json={"name": f"P{number}"}, headers=tenant.member)
        assert created.status_code == 201, created.text
    seen = len(stripe_double.events())

    response = await change(client, tenant, {"plan": "pro"})
    assert response.status_code == 202, response.text
    [request] = changes_at_stripe(stripe_double)
    assert request.params["proration_behavior"] == "create_prorations"
    assert (await granted(client, tenant))["max_projects"] == 100  # not yet

    await apply_stripe_events(stripe_double, db_session, gateway, after=seen)
    assert (await granted(client, tenant))["max_projects"] == 10
    refused = await client.post(projects, json={"name": "Eleventh"}, headers=tenant.member)
    assert refused.status_code == 403
    assert "pro plan allows 10" in refused.json()["detail"]


async def test_a_retried_change_sends_the_same_idempotency_key(
    client: AsyncClient,
    stripe_double: StripeDouble,
    db_session: AsyncSession,
    gateway: StripeGateway,
) -> None:
    tenant = await new_tenant(client)
    await subscribe(client, stripe_double, db_session, gateway, tenant)
    # Stripe fails the first try and the SDK's two retries: the client gets 502, retries.
    stripe_double.fail_next("POST", SUBSCRIPTIONS, status=500, times=3)
    failed = await change(client, tenant, {"interval": "year"})
    assert failed.status_code == 502
    assert failed.headers["content-type"] == "application/problem+json"
    retried = await change(client, tenant, {"interval": "year"})
    assert retried.status_code == 202, retried.text

    tries = changes_at_stripe(stripe_double)
    assert [r.status for r in tries] == [500, 500, 500, 200]
    assert len({r.idempotency_key for r in tries}) == 1
    assert (
        stripe_double.events("customer.subscription.updated")[-1]["request"]["idempotency_key"]
        == tries[0].idempotency_key
    )


async def test_stripe_unavailable_is_a_503_with_retry_after(
    client: AsyncClient,
    stripe_double: StripeDouble,
    db_session: AsyncSession,
    gateway: StripeGateway,
) -> None:
    tenant = await new_tenant(client)
    await subscribe(client, stripe_double, db_session, gateway, tenant)
    for path, url in [
        (SUBSCRIPTIONS, f"/organizations/{tenant.id}/subscription/cancel"),
        ("/v1/billing_portal/sessions", f"/organizations/{tenant.id}/billing-portal"),
    ]:
        stripe_double.fail_next("POST", path, status=429, times=3)
        response = await client.post(url, headers=tenant.owner)
        assert response.status_code == 503, response.text
        assert int(response.headers["Retry-After"]) > 0


async def test_cancel_at_period_end_then_resume(
    client: AsyncClient,
    stripe_double: StripeDouble,
    db_session: AsyncSession,
    gateway: StripeGateway,
) -> None:
    tenant = await new_tenant(client)
    await subscribe(client, stripe_double, db_session, gateway, tenant)
    seen = len(stripe_double.events())

    cancel = await client.post(f"/organizations/{tenant.id}/subscription/cancel",
                               headers=tenant.owner)  # fmt: skip
    assert cancel.status_code == 202, cancel.text
    assert (await ours(client, tenant))["cancel_at_period_end"] is False  # not yet
    seen = await apply_stripe_events(stripe_double, db_session, gateway, after=seen)
    assert (await ours(client, tenant))["cancel_at_period_end"] is True
    assert (await granted(client, tenant))["plan"] == "pro"  # paid until the period ends

    resume = await client.post(f"/organizations/{tenant.id}/subscription/resume",
                               headers=tenant.admin)  # fmt: skip
    assert resume.status_code == 202, resume.text
    await apply_stripe_events(stripe_double, db_session, gateway, after=seen)
    assert (await ours(client, tenant))["cancel_at_period_end"] is False
    assert [r.params for r in changes_at_stripe(stripe_double)] == [
        {"cancel_at_period_end": "true"},
        {"cancel_at_period_end": "false"},
    ]


async def test_a_change_reversed_before_its_event_is_a_conflict_not_a_replay(
    client: AsyncClient,
    stripe_double: StripeDouble,
    db_session: AsyncSession,
    gateway: StripeGateway,
) -> None:
    """Cancel, resume, cancel again, all before Stripe's first event is applied: the key's
    version has not moved, so the third request would replay the first one's answer (202)
    and change nothing, leaving a subscription that renews after the owner cancelled it.
    Instead, a change that is not the one in flight waits for it: 409."""
    tenant = await new_tenant(client)
    await subscribe(client, stripe_double, db_session, gateway, tenant)
    seen = len(stripe_double.events())

    def url(action: str) -> str:
        return f"/organizations/{tenant.id}/subscription/{action}"

    assert (await client.post(url("cancel"), headers=tenant.owner)).status_code == 202
    early = await client.post(url("resume"), headers=tenant.owner)
    assert early.status_code == 409, early.text
    assert early.headers["content-type"] == "application/problem+json"
    also = await change(client, tenant, {"interval": "year"})
    assert also.status_code == 202, also.text  # another kind of change is not held up

    seen = await apply_stripe_events(stripe_double, db_session, gateway, after=seen)
    assert (await client.post(url("resume"), headers=tenant.owner)).status_code == 202
    assert (await client.post(url("cancel"), headers=tenant.owner)).status_code == 409
    await apply_stripe_events(stripe_double, db_session, gateway, after=seen)
    assert (await client.post(url("cancel"), headers=tenant.owner)).status_code == 202
    assert [r.params.get("cancel_at_period_end") for r in changes_at_stripe(stripe_double)] == [
        "true",
        None,
        "false",
        "true",
    ]
    assert not any(r.replayed for r in changes_at_stripe(stripe_double))


async def test_a_free_organisation_has_nothing_to_change(
    client: AsyncClient, stripe_double: StripeDouble
) -> None:
    tenant = await new_tenant(client)
    base = f"/organizations/{tenant.id}"
    assert (await client.get(f"{base}/subscription", headers=tenant.owner)).status_code == 404
    assert (await change(client, tenant, body={"plan": "team"})).status_code == 409
    for action in ("cancel", "resume"):
        response = await client.post(f"{base}/subscription/{action}", headers=tenant.owner)
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
    # Never paid: no Stripe customer, so no Billing Portal.
    assert (await client.post(f"{base}/billing-portal", headers=tenant.owner)).status_code == 409
    assert [r.path for r in stripe_double.requests if r.path != "/v1/prices"] == []


async def test_the_billing_portal_link_returns_to_our_page(
    client: AsyncClient,
    stripe_double: StripeDouble,
    db_session: AsyncSession,
    gateway: StripeGateway,
    settings_on_double: Settings,
) -> None:
    tenant = await new_tenant(client)
    await subscribe(client, stripe_double, db_session, gateway, tenant)
    response = await client.post(f"/organizations/{tenant.id}/billing-portal",
                                 headers=tenant.owner)  # fmt: skip
    assert response.status_code == 201, response.text
    [request] = [r for r in stripe_double.requests if r.path == "/v1/billing_portal/sessions"]
    assert request.params["return_url"] == settings_on_double.billing_portal_return_url
    assert response.json()["url"].startswith("https://billing.stripe.com/")


# --- concurrency -----------------------------------------------------------------------


async def test_two_simultaneous_upgrades_change_the_subscription_once(
    committing_client: AsyncClient,
    stripe_double: StripeDouble,
    committed_session: AsyncSession,
    gateway: StripeGateway,
    settings_on_double: Settings,
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    await subscribe(client, stripe_double, committed_session, gateway, tenant)
    seen = len(stripe_double.events())
    updated_before = len(stripe_double.events("customer.subscription.updated"))

    responses = await asyncio.gather(
        *(change(client, tenant, body={"plan": "team"}) for _ in range(2))
    )

    assert [r.status_code for r in responses] == [202, 202]
    tries = changes_at_stripe(stripe_double)
    assert sorted(r.replayed for r in tries) == [False, True]
    assert len(stripe_double.events("customer.subscription.updated")) == updated_before + 1

    # Granted the way production grants it: Stripe's signed events, stored, then the worker.
    for event in stripe_double.events()[seen:]:
        payload, signature = StripeDouble.sign(event, WEBHOOK_SECRET)
        delivered = await client.post(
            "/webhooks/stripe",
            content=payload,
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        assert delivered.status_code == 200, delivered.text
    worker: Context = {"settings": settings_on_double}
    await _startup(worker)
    try:
        await process_inbox(worker)
    finally:
        await _shutdown(worker)
    upgraded = await granted(client, tenant)
    assert (upgraded["plan"], upgraded["max_seats"]) == ("team", 3)  # seats: the members


def test_upgrades_are_invoiced_now_and_downgrades_credited() -> None:
    team_5 = Subscription(plan="team", interval="month", seats=5)
    assert service.proration_for(team_5, *to("team", "month", 6)) == "always_invoice"
    assert service.proration_for(team_5, *to("team", "year", 5)) == "always_invoice"
    assert service.proration_for(team_5, *to("team", "month", 4)) == "create_prorations"
    assert service.proration_for(team_5, *to("pro", "year", 1)) == "create_prorations"
    pro_yearly = Subscription(plan="pro", interval="year", seats=1)
    assert service.proration_for(pro_yearly, *to("team", "month", 3)) == "always_invoice"
    assert service.proration_for(pro_yearly, *to("pro", "month", 1)) == "create_prorations"


def to(plan: str, interval: str, seats: int) -> tuple[PaidPlan, Interval, int]:
    return PaidPlan(plan), Interval(interval), seats
