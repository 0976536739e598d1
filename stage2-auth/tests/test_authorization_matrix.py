"""Every route of the app, called by four kinds of caller, with the status each must get.

The routes are read from the app itself, so adding an endpoint without a row here fails
`test_every_route_has_a_row`: nobody can forget to decide who may call it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.auth import email_flows
from auth_service.config import Settings
from auth_service.models import EmailTokenPurpose
from tests.factories import PASSWORD, SignedIn, create_task, emails_to, token_in, unique_email

ACTORS = ("anonymous", "user", "other_user", "admin")
NEW_PASSWORD = "a different long passphrase"


@dataclass(frozen=True)
class World:
    """`user` owns `task_id` and is the target of admin actions."""

    user: SignedIn
    other_user: SignedIn
    admin: SignedIn
    task_id: int
    reset_token: str
    verification_token: str


Body = Callable[[World, SignedIn | None], Any]


@dataclass(frozen=True)
class Row:
    anonymous: int
    user: int
    other_user: int
    admin: int
    body: Body | None = None

    def expected(self, actor: str) -> int:
        status: int = getattr(self, actor)
        return status


def everyone(status: int, body: Body | None = None) -> Row:
    return Row(status, status, status, status, body)


def signed_in(status: int, body: Body | None = None) -> Row:
    return Row(401, status, status, status, body)


def admins_only(status: int = 200, body: Body | None = None) -> Row:
    return Row(401, 403, 403, status, body)


def register_body(_: World, __: SignedIn | None) -> dict[str, str]:
    return {"email": unique_email(), "password": PASSWORD, "display_name": "New"}


def own_password_change(_: World, actor: SignedIn | None) -> dict[str, str]:
    return {"current_password": actor.password if actor else PASSWORD, "new_password": NEW_PASSWORD}


MATRIX: dict[tuple[str, str], Row] = {
    # Operations and documentation: public.
    ("GET", "/healthz"): everyone(200),
    ("GET", "/readyz"): everyone(200),
    ("GET", "/metrics"): everyone(200),
    ("GET", "/openapi.json"): everyone(200),
    ("GET", "/docs"): everyone(200),
    ("GET", "/docs/oauth2-redirect"): everyone(200),
    ("GET", "/redoc"): everyone(200),
    # Auth: the credentials are in the body, so the caller's own token does not matter.
    ("POST", "/auth/register"): everyone(201, register_body),
    ("POST", "/auth/login"): everyone(
        200, lambda w, _: {"email": w.user.email, "password": PASSWORD}
    ),
    ("POST", "/auth/refresh"): everyone(200, lambda w, _: {"refresh_token": w.user.refresh_token}),
    ("POST", "/auth/password-reset"): everyone(202, lambda w, _: {"email": w.user.email}),
    ("POST", "/auth/password-reset/confirm"): everyone(
        204, lambda w, _: {"token": w.reset_token, "new_password": NEW_PASSWORD}
    ),
    ("POST", "/auth/verify-email/confirm"): everyone(
        204, lambda w, _: {"token": w.verification_token}
    ),
    # Auth: about the caller's own session or account.
    ("POST", "/auth/logout"): signed_in(204),
    ("POST", "/auth/logout-all"): signed_in(204),
    ("POST", "/auth/change-password"): signed_in(200, own_password_change),
    ("POST", "/auth/verify-email"): signed_in(202),
    # Users.
    ("GET", "/users/me"): signed_in(200),
    ("PATCH", "/users/me"): signed_in(200, lambda _, __: {"display_name": "Renamed"}),
    ("GET", "/users"): admins_only(),
    ("GET", "/users/{user_id}"): admins_only(),
    ("PUT", "/users/{user_id}/role"): admins_only(body=lambda _, __: {"role": "admin"}),
    ("POST", "/users/{user_id}/deactivate"): admins_only(),
    ("POST", "/users/{user_id}/reactivate"): admins_only(),
    # Tasks: the owner does everything; others get 404; admins read but do not write.
    ("POST", "/tasks"): signed_in(201, lambda _, __: {"title": "New task"}),
    ("GET", "/tasks"): signed_in(200),
    ("GET", "/tasks/{task_id}"): Row(401, 200, 404, 200),
    ("PATCH", "/tasks/{task_id}"): Row(401, 200, 404, 403, lambda _, __: {"status": "done"}),
    ("DELETE", "/tasks/{task_id}"): Row(401, 204, 404, 403),
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    # FastAPI keeps an included router as one node in `app.routes`;
    # `iter_route_contexts` walks into them and gives each route its full path.
    return {
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        if context.path is not None
        for method in context.methods or ()
        if method != "HEAD"  # answered by every GET route
    }


def test_every_route_has_a_row(app: FastAPI) -> None:
    routes = app_routes(app)
    assert ("GET", "/tasks/{task_id}") in routes  # the discovery itself works
    assert routes - set(MATRIX) == set(), "new routes need a row in MATRIX"
    assert set(MATRIX) - routes == set(), "rows for routes that no longer exist"


@pytest_asyncio.fixture
async def world(
    *,
    app: FastAPI,
    db_session: AsyncSession,
    settings: Settings,
    alice: SignedIn,
    bob: SignedIn,
    admin: SignedIn,
) -> World:
    task = await create_task(db_session, alice.user)
    outbox = app.state.email_outbox
    await email_flows.request_password_reset(db_session, settings, outbox, alice.email)
    await email_flows.send_verification_email(db_session, settings, outbox, alice.user)
    await db_session.commit()
    emails = await emails_to(db_session, alice.email)
    tokens = {email.subject: token_in(email) for email in emails}
    assert len(tokens) == len(EmailTokenPurpose)
    return World(
        user=alice,
        other_user=bob,
        admin=admin,
        task_id=task.id,
        reset_token=tokens["Reset your password"],
        verification_token=tokens["Confirm your email address"],
    )


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("method", "path"), list(MATRIX), ids=[f"{m} {p}" for m, p in MATRIX])
async def test_each_caller_gets_the_expected_status(
    client: AsyncClient, world: World, method: str, path: str, actor: str
) -> None:
    row = MATRIX[(method, path)]
    caller: SignedIn | None = None if actor == "anonymous" else getattr(world, actor)
    url = path.format(task_id=world.task_id, user_id=world.user.user.id)
    response = await client.request(
        method,
        url,
        headers=caller.headers if caller else {},
        json=row.body(world, caller) if row.body else None,
    )
    assert response.status_code == row.expected(actor), response.text
