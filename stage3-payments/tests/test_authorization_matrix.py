"""Every endpoint, as each kind of caller: an owner, an admin and a member of the
organisation, a member of another organisation, and someone not signed in.

Someone outside the organisation gets 404, as if it did not exist; a member who lacks
the role gets 403; no token at all is 401. `POST /webhooks/stripe` is not here: it is
authorised by Stripe's signature, not by a user (tests/test_webhooks.py).

Stripe is the shared Stripe double here, since one endpoint opens a Checkout Session (which
localstripe lacks); the organisation's payment is bought through Checkout.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from billing.config import Settings
from billing.main import create_app
from billing.stripe_gateway import StripeGateway
from billing.webhooks import handlers
from roadmap_shared.testing.stripe_double import StripeDouble
from tests.factories import (
    PASSWORD,
    Tenant,
    email_of,
    new_tenant,
    signed_in,
    stripe_event,
    unique_email,
)

CALLERS = ("owner", "admin", "member", "outsider", "anonymous")


@dataclass
class World:
    organization_id: int
    payment_id: int
    headers: dict[str, dict[str, str]]
    candidates: dict[str, str]  # per caller, an account not yet in the organisation


Body = Callable[[World, str], dict[str, Any] | None]


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    expected: tuple[int, int, int, int, int]  # in the order of CALLERS
    body: Body = lambda world, caller: None


MATRIX = [
    # Anyone may sign up and sign in, signed in or not.
    Case(
        "POST",
        "/users",
        (201, 201, 201, 201, 201),
        lambda w, c: {"email": unique_email(c), "name": "New", "password": PASSWORD},
    ),
    Case(
        "POST",
        "/users/login",
        (200, 200, 200, 200, 200),
        lambda world, caller: {"email": world.candidates[caller], "password": PASSWORD},
    ),
    Case("GET", "/users/me", (200, 200, 200, 200, 401)),
    Case("GET", "/prices", (200, 200, 200, 200, 200)),
    Case("GET", "/organizations", (200, 200, 200, 200, 401)),
    Case("POST", "/organizations", (201, 201, 201, 201, 401), lambda w, c: {"name": "New"}),
    Case("GET", "/organizations/{org}", (200, 200, 200, 404, 401)),
    Case("GET", "/organizations/{org}/members", (200, 200, 200, 404, 401)),
    Case(
        "POST",
        "/organizations/{org}/members",
        (201, 201, 403, 404, 401),
        lambda world, caller: {"email": world.candidates[caller], "role": "member"},
    ),
    Case(
        "POST",
        "/organizations/{org}/payments",
        (201, 201, 403, 404, 401),
        lambda w, c: {"product": "credits_100"},
    ),
    Case(
        "POST",
        "/organizations/{org}/payments/checkout",
        (201, 201, 403, 404, 401),
        lambda w, c: {"product": "credits_100"},
    ),
    Case("GET", "/organizations/{org}/payments", (200, 200, 403, 404, 401)),
    Case("GET", "/organizations/{org}/payments/{payment}", (200, 200, 403, 404, 401)),
    Case(
        "POST",
        "/organizations/{org}/payments/{payment}/refunds",
        (201, 201, 403, 404, 401),
        lambda w, c: {"amount": 100, "reason": "requested_by_customer"},
    ),
    Case("GET", "/organizations/{org}/entitlements", (200, 200, 200, 404, 401)),
    Case("GET", "/organizations/{org}/projects", (200, 200, 200, 404, 401)),
    Case(
        "POST",
        "/organizations/{org}/projects",
        (201, 201, 201, 404, 401),
        lambda w, c: {"name": "Project"},
    ),
]


def test_the_matrix_covers_every_endpoint(app: FastAPI) -> None:
    documented_operations = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method != "head" and path not in {"/healthz", "/readyz"}  # the shared app's
    }
    placeholders = {"{org}": "{organization_id}", "{payment}": "{payment_id}"}

    def documented(path: str) -> str:
        for short, full in placeholders.items():
            path = path.replace(short, full)
        return path

    covered = {(case.method, documented(case.path)) for case in MATRIX}
    assert documented_operations - covered == {("POST", "/webhooks/stripe")}


@pytest.fixture
def app(settings: Settings, stripe_double: StripeDouble, redis_client: Redis) -> FastAPI:
    return create_app(settings.model_copy(update={"stripe_api_base": stripe_double.base_url}))


async def paid_through_checkout(
    client: AsyncClient,
    stripe_double: StripeDouble,
    session: AsyncSession,
    gateway: StripeGateway,
    tenant: Tenant,
) -> dict[str, Any]:
    """Bought on the hosted page, fulfilled by handling Stripe's `checkout.session.completed`
    in the test's own transaction (tests/test_checkout.py runs the worker)."""
    response = await client.post(
        f"/organizations/{tenant.id}/payments/checkout",
        json={"product": "credits_100"},
        headers=tenant.owner,
    )
    assert response.status_code == 201, response.text
    stripe_double.complete_checkout_session(response.json()["stripe_checkout_session_id"])
    [completed] = stripe_double.events("checkout.session.completed")
    await handlers.handle(session, gateway, completed)
    payment = await client.get(
        f"/organizations/{tenant.id}/payments/{response.json()['id']}", headers=tenant.owner
    )
    assert payment.json()["status"] == "succeeded", payment.text
    paid: dict[str, Any] = payment.json()
    return paid


@pytest.fixture
async def world(
    client: AsyncClient, stripe_double: StripeDouble, db_session: AsyncSession, app: FastAPI
) -> World:
    tenant = await new_tenant(client)
    outsider = await signed_in(client)
    await client.post("/organizations", json={"name": "Elsewhere"}, headers=outsider)
    payment = await paid_through_checkout(
        client, stripe_double, db_session, app.state.stripe_gateway, tenant
    )
    # A paid plan, so that each caller allowed to create a project is within the limit.
    subscription = {
        "id": f"sub_matrix_{tenant.id}",
        "object": "subscription",
        "status": "active",
        "quantity": 1,
        "metadata": {"organization_id": str(tenant.id), "plan": "pro"},
    }
    event = json.loads(stripe_event("customer.subscription.created", subscription))
    await handlers.handle(db_session, app.state.stripe_gateway, event)
    candidates = {caller: await email_of(client, await signed_in(client)) for caller in CALLERS}
    headers = {
        "owner": tenant.owner,
        "admin": tenant.admin,
        "member": tenant.member,
        "outsider": outsider,
        "anonymous": {},
    }
    return World(tenant.id, payment["id"], headers, candidates)


@pytest.mark.parametrize("case", MATRIX, ids=lambda case: f"{case.method} {case.path}")
async def test_who_may_call_what(client: AsyncClient, world: World, case: Case) -> None:
    path = case.path.format(org=world.organization_id, payment=world.payment_id)
    statuses = []
    for caller in CALLERS:
        body = case.body(world, caller)
        response = await client.request(case.method, path, json=body, headers=world.headers[caller])
        statuses.append(response.status_code)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
    assert dict(zip(CALLERS, statuses, strict=True)) == dict(
        zip(CALLERS, case.expected, strict=True)
    )


async def test_an_admin_cannot_make_an_owner(client: AsyncClient, world: World) -> None:
    response = await client.post(
        f"/organizations/{world.organization_id}/members",
        json={"email": world.candidates["admin"], "role": "owner"},
        headers=world.headers["admin"],
    )
    assert response.status_code == 403
