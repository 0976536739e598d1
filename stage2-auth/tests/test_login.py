"""Signing in: JSON or the OAuth2 password form, one answer for every kind of failure, and
rate limits per account and per client address."""

import asyncio

import jwt
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.models import LoginSession, User
from tests.conftest import TEST_KEY
from tests.factories import PASSWORD, QueryCounter, bearer, create_user, login


async def test_a_user_signs_in_with_json_and_gets_a_token_pair(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await create_user(db_session)
    response = await login(client, user.email)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["refresh_token_expires_in"] == 14 * 24 * 3600
    assert len(body["refresh_token"]) == 43
    # Token responses must never be cached (RFC 6749 section 5.1).
    assert response.headers["Cache-Control"] == "no-store"
    me = await client.get("/users/me", headers=bearer(body["access_token"]))
    assert me.json()["email"] == user.email


async def test_the_access_token_names_the_user_and_the_session(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await create_user(db_session)
    token = (await login(client, user.email)).json()["access_token"]
    claims = jwt.decode(token, TEST_KEY, algorithms=["HS256"], audience="backend-roadmap")
    assert claims["sub"] == str(user.id)
    assert claims["typ"] == "access"
    assert set(claims) >= {"iss", "aud", "exp", "iat", "nbf", "jti", "sid"}
    assert jwt.get_unverified_header(token)["kid"] == "test"
    session = await db_session.scalar(select(LoginSession).where(LoginSession.user_id == user.id))
    assert session is not None
    assert claims["sid"] == str(session.id)


async def test_each_login_starts_its_own_session(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await create_user(db_session)
    await login(client, user.email)
    await login(client, user.email)
    sessions = await db_session.scalars(select(LoginSession).where(LoginSession.user_id == user.id))
    assert len(sessions.all()) == 2


async def test_the_oauth2_password_form_signs_in_too(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    # What Swagger UI's "Authorize" button sends.
    user = await create_user(db_session)
    response = await client.post(
        "/auth/login",
        data={"grant_type": "password", "username": user.email.upper(), "password": PASSWORD},
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


async def test_another_grant_type_is_refused(client: AsyncClient, db_session: AsyncSession) -> None:
    user = await create_user(db_session)
    response = await client.post(
        "/auth/login",
        data={"grant_type": "client_credentials", "username": user.email, "password": PASSWORD},
    )
    assert response.status_code == 400


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await create_user(db_session)
    wrong_password = await login(client, user.email, "not the right passphrase")
    unknown_email = await login(client, "nobody@example.com")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.headers["WWW-Authenticate"] == "Bearer"


async def test_a_deactivated_user_cannot_sign_in(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await create_user(db_session, active=False)
    response = await login(client, user.email)
    assert response.status_code == 403
    assert response.json()["detail"] == "This account has been deactivated."
    # ...but only someone who knows the password learns that.
    assert (await login(client, user.email, "not the right passphrase")).status_code == 401


async def test_a_hash_made_with_weaker_parameters_is_upgraded_at_login(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    from argon2 import PasswordHasher  # noqa: PLC0415 (only this test makes an old hash)

    user = await create_user(db_session)
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    await db_session.commit()
    assert (await login(client, user.email)).status_code == 200
    upgraded = await db_session.scalar(select(User.password_hash).where(User.id == user.id))
    assert upgraded is not None
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_a_login_takes_no_database_connection_while_it_waits_to_hash(
    app: FastAPI, client: AsyncClient, db_session: AsyncSession, query_counter: QueryCounter
) -> None:
    # Logins queueing for the hashing threads must not sit on database connections that
    # other requests need. Here every hashing slot is busy.
    user = await create_user(db_session)
    app.state.hashing_slots = slots = asyncio.Semaphore(1)
    await slots.acquire()
    with query_counter() as queries:
        waiting = asyncio.create_task(login(client, user.email))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        assert queries.count == 0, str(queries)
    slots.release()
    assert (await waiting).status_code == 200


async def test_malformed_bodies_are_client_errors(client: AsyncClient) -> None:
    no_password = await client.post("/auth/login", json={"email": "a@example.com"})
    assert no_password.status_code == 422
    assert no_password.json()["errors"][0]["loc"] == ["body", "password"]
    not_json = await client.post(
        "/auth/login", content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    not_an_object = await client.post("/auth/login", json=["a@example.com", PASSWORD])
    assert not_an_object.status_code == 422
    plain_text = await client.post(
        "/auth/login", content=b"hello", headers={"Content-Type": "text/plain"}
    )
    assert plain_text.status_code == 415
    too_long = await client.post(
        "/auth/login", json={"email": "a@example.com", "password": "x" * 129}
    )
    assert too_long.status_code == 422


async def test_attempts_on_one_account_are_limited(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await create_user(db_session)
    for _ in range(5):
        assert (await login(client, user.email, "a wrong passphrase here")).status_code == 401
    # The limit holds for the right password too: it counts attempts, not failures.
    refused = await login(client, user.email)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.headers["RateLimit-Policy"] == '"login-account";q=5;w=900'
    assert refused.headers["RateLimit"].startswith('"login-account";r=0;')
    # However the address is written.
    assert (await login(client, user.email.upper())).status_code == 429


async def test_the_account_limit_does_not_touch_other_accounts(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    victim, other = await create_user(db_session), await create_user(db_session)
    for _ in range(6):
        await login(client, victim.email, "a wrong passphrase here")
    response = await login(client, other.email)
    assert response.status_code == 200, response.json()


async def test_attempts_from_one_client_address_are_limited(client: AsyncClient) -> None:
    # Twenty different accounts from one address: the address limit (20), not any
    # account's (5), is what stops the twenty-first.
    for n in range(20):
        assert (await login(client, f"someone-{n}@example.com")).status_code == 401
    refused = await login(client, "someone-else@example.com")
    assert refused.status_code == 429
    assert refused.headers["RateLimit-Policy"] == '"login-address";q=20;w=900'
    assert "Retry-After" in refused.headers
