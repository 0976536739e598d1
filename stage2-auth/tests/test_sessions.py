"""Ending sessions: logout, logout everywhere, a password change. Access tokens of an
ended session stop working on the very next request, not when they expire."""

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.models import LoginSession, User
from roadmap_shared.security.passwords import verify_password
from roadmap_shared.testing.no_store import assert_no_store
from tests.factories import PASSWORD, SignedIn, bearer, login

NEW_PASSWORD = "an even longer passphrase for today"


async def test_logout_ends_this_session_at_once(client: AsyncClient, alice: SignedIn) -> None:
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 200
    assert (await client.post("/auth/logout", headers=alice.headers)).status_code == 204
    response = await client.get("/users/me", headers=alice.headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["detail"] == "This session has ended; sign in again."


async def test_logout_leaves_other_sessions_alone(client: AsyncClient, alice: SignedIn) -> None:
    phone = (await login(client, alice.email)).json()
    await client.post("/auth/logout", headers=alice.headers)
    assert (await client.get("/users/me", headers=bearer(phone["access_token"]))).status_code == 200


async def test_logout_all_ends_every_session_of_the_user(
    client: AsyncClient, alice: SignedIn, bob: SignedIn
) -> None:
    phone = (await login(client, alice.email)).json()
    assert (await client.post("/auth/logout-all", headers=alice.headers)).status_code == 204
    for token in (alice.access_token, phone["access_token"]):
        assert (await client.get("/users/me", headers=bearer(token))).status_code == 401
    refresh = await client.post("/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert refresh.status_code == 401
    # Bob is someone else.
    assert (await client.get("/users/me", headers=bob.headers)).status_code == 200


async def test_changing_the_password_ends_every_session_and_starts_a_new_one(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    phone = (await login(client, alice.email)).json()
    response = await client.post(
        "/auth/change-password",
        headers=alice.headers,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert_no_store(response)
    fresh = response.json()
    for token in (alice.access_token, phone["access_token"]):
        assert (await client.get("/users/me", headers=bearer(token))).status_code == 401
    assert (await client.get("/users/me", headers=bearer(fresh["access_token"]))).status_code == 200
    stored = await db_session.scalar(select(User.password_hash).where(User.id == alice.user.id))
    assert await verify_password(stored, NEW_PASSWORD)
    assert (await login(client, alice.email, PASSWORD)).status_code == 401
    assert (await login(client, alice.email, NEW_PASSWORD)).status_code == 200
    reasons = await db_session.scalars(
        select(LoginSession.revoked_reason).where(LoginSession.user_id == alice.user.id)
    )
    assert sorted(reasons, key=str) == [None, None, "password_changed", "password_changed"]


async def test_changing_the_password_needs_the_current_one(
    client: AsyncClient, alice: SignedIn
) -> None:
    response = await client.post(
        "/auth/change-password",
        headers=alice.headers,
        json={"current_password": "not my passphrase at all", "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 200


async def test_the_new_password_must_meet_the_policy_and_differ(
    client: AsyncClient, alice: SignedIn
) -> None:
    for new_password in ("too short", "passwordpassword", PASSWORD):
        response = await client.post(
            "/auth/change-password",
            headers=alice.headers,
            json={"current_password": PASSWORD, "new_password": new_password},
        )
        assert response.status_code == 422, new_password
        assert response.json()["errors"][0]["loc"] == ["body", "new_password"]


async def test_guessing_the_current_password_is_rate_limited(
    client: AsyncClient, alice: SignedIn
) -> None:
    # A stolen access token must not give unlimited guesses at the password.
    statuses = [
        (
            await client.post(
                "/auth/change-password",
                headers=alice.headers,
                json={
                    "current_password": f"guess number {n} of many",
                    "new_password": NEW_PASSWORD,
                },
            )
        ).status_code
        for n in range(6)
    ]
    assert statuses == [400] * 5 + [429]
