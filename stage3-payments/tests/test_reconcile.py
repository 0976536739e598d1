"""`python -m billing.reconcile`: Stripe's balance transactions against our payments and
refunds, on the shared Stripe double (localstripe keeps no balance transactions)."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing import reconcile
from billing.config import Settings
from billing.main import create_app
from billing.models import Payment, PaymentStatus
from billing.reconcile import Difference
from billing.webhooks import handlers
from roadmap_shared.testing.stripe_double import StripeDouble
from tests.conftest import STRIPE_API_KEY
from tests.factories import Tenant, new_tenant, start_payment, stripe_event

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
TOMORROW = TODAY + timedelta(days=1)


@pytest.fixture
def settings_on_double(settings: Settings, stripe_double: StripeDouble) -> Settings:
    return settings.model_copy(update={"stripe_api_base": stripe_double.base_url})


@pytest.fixture
def app(settings_on_double: Settings, redis_client: Redis) -> FastAPI:
    return create_app(settings_on_double)


@pytest.fixture
async def at_stripe(stripe_double: StripeDouble) -> AsyncIterator[stripe.StripeClient]:
    """Stripe.js and the dashboard: paying with a card, refunding by hand."""
    http = stripe.HTTPXClient(timeout=10)
    yield stripe.StripeClient(
        STRIPE_API_KEY, base_addresses={"api": stripe_double.base_url}, http_client=http
    )
    await http.close_async()  # type: ignore[no-untyped-call]


async def confirm_with_card(at_stripe: stripe.StripeClient, intent_id: str) -> dict[str, Any]:
    """What Stripe.js does in the customer's browser."""
    intent = await at_stripe.v1.payment_intents.confirm_async(
        intent_id, {"payment_method": "pm_card_visa"}
    )
    return intent.to_dict()


async def paid(
    client: AsyncClient, at_stripe: stripe.StripeClient, session: AsyncSession, app: FastAPI
) -> tuple[Tenant, dict[str, Any]]:
    """A payment confirmed with a card and fulfilled by its `payment_intent.succeeded`."""
    tenant = await new_tenant(client)
    payment = await start_payment(client, tenant)
    intent = await confirm_with_card(at_stripe, payment["stripe_payment_intent_id"])
    event = json.loads(stripe_event("payment_intent.succeeded", intent))
    await handlers.handle(session, app.state.stripe_gateway, event)
    return tenant, payment


async def refund(client: AsyncClient, tenant: Tenant, payment: dict[str, Any], amount: int) -> None:
    response = await client.post(
        f"/organizations/{tenant.id}/payments/{payment['id']}/refunds",
        json={"amount": amount, "reason": "requested_by_customer"},
        headers=tenant.owner,
    )
    assert response.status_code == 201, response.text


async def differences(session: AsyncSession, app: FastAPI) -> list[Difference]:
    return await reconcile.reconcile(session, app.state.stripe_gateway, since=TODAY, until=TOMORROW)


async def test_a_clean_period_reports_nothing(
    client: AsyncClient, at_stripe: stripe.StripeClient, db_session: AsyncSession, app: FastAPI
) -> None:
    tenant, payment = await paid(client, at_stripe, db_session, app)
    await refund(client, tenant, payment, 300)
    other, _ = await paid(client, at_stripe, db_session, app)
    await start_payment(client, other)  # never paid: no money moved, nothing to match

    assert await differences(db_session, app) == []


async def test_every_kind_of_difference_is_reported(
    client: AsyncClient, at_stripe: stripe.StripeClient, db_session: AsyncSession, app: FastAPI
) -> None:
    # A charge at Stripe that no payment of ours knows.
    stranger = await at_stripe.v1.payment_intents.create_async(
        {"amount": 2_000, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
    )
    # A payment whose captured amount we recorded wrong.
    tenant, short = await paid(client, at_stripe, db_session, app)
    # A refund made at Stripe (in the dashboard) that we have no row for.
    _, refunded_elsewhere = await paid(client, at_stripe, db_session, app)
    dashboard_refund = await at_stripe.v1.refunds.create_async(
        {"payment_intent": refunded_elsewhere["stripe_payment_intent_id"], "amount": 400}
    )
    # A payment we marked paid that Stripe never charged.
    never_charged = await start_payment(client, tenant)
    # A payment Stripe charged that we never fulfilled (its event lost).
    unfulfilled = await start_payment(client, tenant)
    await confirm_with_card(at_stripe, unfulfilled["stripe_payment_intent_id"])
    await db_session.execute(text("RESET ROLE"))
    await db_session.execute(
        update(Payment).where(Payment.id == short["id"]).values(amount_captured=900)
    )
    await db_session.execute(
        update(Payment)
        .where(Payment.id == never_charged["id"])
        .values(status=PaymentStatus.SUCCEEDED, amount_captured=1_000)
    )

    found = await differences(db_session, app)

    assert {(d.kind, d.key, d.problem) for d in found} == {
        ("payment", stranger.id, "missing on our side"),
        ("payment", short["stripe_payment_intent_id"], "amount differs"),
        ("refund", dashboard_refund.id, "missing on our side"),
        ("payment", never_charged["stripe_payment_intent_id"], "missing at Stripe"),
        ("payment", unfulfilled["stripe_payment_intent_id"], "status differs"),
    }
    amounts = {d.key: (d.stripe, d.ours) for d in found}
    assert amounts[short["stripe_payment_intent_id"]] == ("1000 EUR succeeded", "900 EUR succeeded")
    assert amounts[dashboard_refund.id] == ("400 EUR succeeded", "-")


async def test_a_charge_just_after_the_period_matches_a_payment_started_in_it(
    client: AsyncClient, at_stripe: stripe.StripeClient, db_session: AsyncSession, app: FastAPI
) -> None:
    """The period is yesterday: a payment started a minute before midnight and paid today
    finds its charge, and a charge made today alone is the next period's."""
    _, late = await paid(client, at_stripe, db_session, app)
    await db_session.execute(text("RESET ROLE"))
    await db_session.execute(
        update(Payment)
        .where(Payment.id == late["id"])
        .values(created_at=TODAY - timedelta(minutes=1))
    )
    await at_stripe.v1.payment_intents.create_async(
        {"amount": 2_000, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
    )

    found = await reconcile.reconcile(
        db_session, app.state.stripe_gateway, since=TODAY - timedelta(days=1), until=TODAY
    )

    assert found == []


def test_the_command_prints_a_table_and_fails_on_a_difference(
    stripe_double: StripeDouble,
    settings_on_double: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(reconcile, "get_settings", lambda: settings_on_double)
    since = TODAY.date().isoformat()
    reconcile.main(["--since", since])  # nothing anywhere: agreement, exit status 0
    assert "agree" in capsys.readouterr().out

    http = stripe.HTTPXClient(timeout=10, allow_sync_methods=True)
    dashboard = stripe.StripeClient(
        STRIPE_API_KEY, base_addresses={"api": stripe_double.base_url}, http_client=http
    )
    stranger = dashboard.v1.payment_intents.create(
        {"amount": 2_000, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
    )
    http.close()  # type: ignore[no-untyped-call]
    with pytest.raises(SystemExit) as exited:
        reconcile.main(["--since", since])

    assert exited.value.code == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].split() == ["kind", "Stripe", "id", "difference", "Stripe", "ours"]
    assert lines[-1].split() == [
        "payment",
        stranger.id,
        "missing",
        "on",
        "our",
        "side",
        "2000",
        "EUR",
        "succeeded",
        "-",
    ]
