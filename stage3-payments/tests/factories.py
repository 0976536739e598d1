"""Test data made through the API, as a client would: accounts, organisations, members,
and Stripe events signed the way Stripe signs them."""

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

import stripe
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from billing.stripe_gateway import StripeGateway
from billing.webhooks import handlers
from roadmap_shared.testing.stripe_double import StripeDouble
from tests.conftest import STRIPE_API_KEY, WEBHOOK_SECRET

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{next(_numbers)}-{time.monotonic_ns()}@example.com"


async def signed_in(client: AsyncClient, email: str | None = None) -> dict[str, str]:
    """Registers an account and returns the headers of a request signed in as it."""
    email = email or unique_email()
    response = await client.post(
        "/users", json={"email": email, "name": "Test User", "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    login = await client.post("/users/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def email_of(client: AsyncClient, headers: dict[str, str]) -> str:
    email: str = (await client.get("/users/me", headers=headers)).json()["email"]
    return email


async def new_organization(client: AsyncClient, owner: dict[str, str], name: str = "Acme") -> int:
    response = await client.post("/organizations", json={"name": name}, headers=owner)
    assert response.status_code == 201, response.text
    organization_id: int = response.json()["id"]
    return organization_id


@dataclass
class Tenant:
    """An organisation with one user in each role."""

    id: int
    owner: dict[str, str]
    admin: dict[str, str]
    member: dict[str, str]


async def new_tenant(client: AsyncClient, name: str = "Acme") -> Tenant:
    owner = await signed_in(client)
    organization_id = await new_organization(client, owner, name)
    headers = {}
    for role in ("admin", "member"):
        headers[role] = await signed_in(client)
        response = await client.post(
            f"/organizations/{organization_id}/members",
            json={"email": await email_of(client, headers[role]), "role": role},
            headers=owner,
        )
        assert response.status_code == 201, response.text
    return Tenant(organization_id, owner, headers["admin"], headers["member"])


# --- Stripe events --------------------------------------------------------------------


def stripe_signature(
    payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> str:
    """`Stripe-Signature` as Stripe computes it: HMAC-SHA256 over `"{t}.{payload}"`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def stripe_event(
    type_: str, obj: dict[str, Any], *, event_id: str | None = None, created: int | None = None
) -> bytes:
    event = {
        "id": event_id or f"evt_test_{next(_numbers)}_{time.monotonic_ns()}",
        "object": "event",
        "type": type_,
        "created": int(time.time()) if created is None else created,
        "data": {"object": obj},
    }
    return json.dumps(event).encode()


async def deliver(client: AsyncClient, payload: bytes, *, signature: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    headers["Stripe-Signature"] = signature if signature is not None else stripe_signature(payload)
    return await client.post("/webhooks/stripe", content=payload, headers=headers)


async def confirm_with_card(
    stripe_client: stripe.StripeClient, payment_intent_id: str, card: str = "pm_card_visa"
) -> dict[str, Any]:
    """What Stripe.js does in the customer's browser: attach a card and confirm."""
    await stripe_client.v1.payment_intents.update_async(payment_intent_id, {"payment_method": card})
    intent = await stripe_client.v1.payment_intents.confirm_async(payment_intent_id)
    return intent.to_dict()


async def start_payment(
    client: AsyncClient, tenant: Tenant, product: str = "credits_100"
) -> dict[str, Any]:
    response = await client.post(
        f"/organizations/{tenant.id}/payments", json={"product": product}, headers=tenant.owner
    )
    assert response.status_code == 201, response.text
    payment: dict[str, Any] = response.json()
    return payment


async def paid_payment(
    client: AsyncClient,
    *,
    stripe_client: stripe.StripeClient,
    session: AsyncSession,
    gateway: StripeGateway,
    tenant: Tenant,
    product: str = "credits_100",
) -> dict[str, Any]:
    """A payment confirmed with a card at the emulator, then fulfilled the only way a
    payment is: by handling Stripe's `payment_intent.succeeded`. The handler runs in the
    test's own transaction here; the inbox's mechanics have tests of their own."""
    payment = await start_payment(client, tenant, product)
    intent = await confirm_with_card(stripe_client, payment["stripe_payment_intent_id"])
    event = json.loads(stripe_event("payment_intent.succeeded", intent))
    await handlers.handle(session, gateway, event)
    response = await client.get(
        f"/organizations/{tenant.id}/payments/{payment['id']}", headers=tenant.owner
    )
    assert response.json()["status"] == "succeeded", response.text
    fulfilled: dict[str, Any] = response.json()
    return fulfilled


# --- subscriptions on the Stripe double -------------------------------------------------

PLAN_AMOUNTS = {"pro_month": 1_900, "pro_year": 19_000, "team_month": 900, "team_year": 9_000}


def plan_prices(double: StripeDouble) -> dict[str, str]:
    """The plans' Prices made at the double, as an operator makes them in the dashboard;
    the result is what `PAYMENTS_PLAN_PRICES` holds."""
    client = stripe.StripeClient(STRIPE_API_KEY, base_addresses={"api": double.base_url})
    prices = {}
    for key, amount in PLAN_AMOUNTS.items():
        plan, interval = key.split("_")
        price = client.v1.prices.create(
            {
                "currency": "eur",
                "unit_amount": amount,
                "recurring": {"interval": interval},
                "product_data": {"name": plan},
            }
        )
        prices[key] = price.id
    return prices


async def apply_stripe_events(
    double: StripeDouble, session: AsyncSession, gateway: StripeGateway, *, after: int = 0
) -> int:
    """Handles the double's events from index `after` on, each committed as the worker
    does (tests/test_worker.py covers the inbox itself); returns the next index."""
    events = double.events()
    for event in events[after:]:
        await handlers.handle(session, gateway, event)
        await session.commit()
    return len(events)


async def subscribe(
    client: AsyncClient,
    double: StripeDouble,
    session: AsyncSession,
    gateway: StripeGateway,
    tenant: Tenant,
    *,
    body: dict[str, Any] | None = None,
) -> str:
    """A plan bought through the API's Checkout, paid at the double, applied from the
    events; returns the Stripe subscription's id."""
    before = len(double.events())
    response = await client.post(
        f"/organizations/{tenant.id}/subscription/checkout",
        json=body or {"plan": "pro"},
        headers=tenant.owner,
    )
    assert response.status_code == 201, response.text
    completed = double.complete_checkout_session(response.json()["stripe_checkout_session_id"])
    await apply_stripe_events(double, session, gateway, after=before)
    subscription_id: str = completed["subscription"]
    return subscription_id
