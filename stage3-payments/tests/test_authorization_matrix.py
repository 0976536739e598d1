"""Every endpoint, as each kind of caller: an owner, an admin and a member of the
organisation, a member of another organisation, and someone not signed in.

Someone outside the organisation gets 404, as if it did not exist; a member who lacks
the role gets 403; no token at all is 401. `POST /webhooks/stripe` is not here: it is
authorised by Stripe's signature, not by a user (tests/test_webhooks.py).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import stripe
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from billing.webhooks import handlers
from tests.factories import (
    PASSWORD,
    email_of,
    new_tenant,
    paid_payment,
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
async def world(
    client: AsyncClient, stripe_client: stripe.StripeClient, db_session: AsyncSession, app: FastAPI
) -> World:
    tenant = await new_tenant(client)
    outsider = await signed_in(client)
    await client.post("/organizations", json={"name": "Elsewhere"}, headers=outsider)
    payment = await paid_payment(
        client,
        stripe_client=stripe_client,
        session=db_session,
        gateway=app.state.stripe_gateway,
        tenant=tenant,
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
