"""Signing in: JSON or the OAuth2 password form, one answer for every kind of failure, and
rate limits per account and per client address."""

import asyncio

import jwt
import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from auth_service.auth import service as auth_service
from auth_service.models import LoginSession, User, UserRole
from roadmap_shared.security.passwords import PasswordCheck, check_password
from roadmap_shared.testing.factories import TEST_JWT_KEY
from roadmap_shared.testing.no_store import assert_no_store
from tests.factories import (
    PASSWORD,
    QueryCounter,
    bearer,
    client_from,
    create_user,
    login,
    register,
    unique_email,
)


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
    assert_no_store(response)
    me = await client.get("/users/me", headers=bearer(body["access_token"]))
    assert me.json()["email"] == user.email


async def test_the_access_token_names_the_user_and_the_session(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await create_user(db_session)
    token = (await login(client, user.email)).json()["access_token"]
    claims = jwt.decode(token, TEST_JWT_KEY, algorithms=["HS256"], audience="auth-service")
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


async def test_a_form_without_a_username_names_the_username_field(client: AsyncClient) -> None:
    response = await client.post("/auth/login", data={"password": PASSWORD})
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [["body", "username"]]


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


async def test_an_unknown_email_costs_a_password_check_like_a_known_one(
    client: AsyncClient, db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The timing defence, tested as behaviour: with no account to check against, the
    # password is still verified (`check_password(None, ...)` hashes against a dummy).
    checked: list[str | None] = []

    async def recording_check(password_hash: str | None, password: str) -> PasswordCheck:
        checked.append(password_hash)
        return await check_password(password_hash, password)

    monkeypatch.setattr(auth_service, "check_password", recording_check)
    user = await create_user(db_session)
    assert (await login(client, user.email, "not the right passphrase")).status_code == 401
    assert (
        await login(client, "nobody@example.com", "not the right passphrase")
    ).status_code == 401
    assert checked == [user.password_hash, None]


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


async def test_json_nested_deeper_than_the_parser_goes_is_a_client_error(
    client: AsyncClient,
) -> None:
    response = await client.post(
        "/auth/login", content=b"[" * 50_000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


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


async def test_one_ipv6_network_counts_as_one_client_address(
    app: FastAPI, client: AsyncClient
) -> None:
    # An IPv6 client is usually given a /64 network and may use any of its 2**64
    # addresses: changing address within it must not buy a fresh limit.
    for n in range(20):
        async with client_from(app, f"2001:db8:1:2::{n + 1:x}") as same_network:
            assert (await login(same_network, f"someone-{n}@example.com")).status_code == 401
    async with client_from(app, "2001:db8:1:2:ffff:ffff:ffff:ffff") as same_network:
        assert (await login(same_network, "someone-else@example.com")).status_code == 429
    async with client_from(app, "2001:db8:1:3::1") as next_network:
        assert (await login(next_network, "someone-else@example.com")).status_code == 401


class PausedPasswordCheck:
    """Stands in for `check_password` and holds the first check, once it has passed,
    until released: the moment another request can commit between a login's password
    check and the session it then starts."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, password_hash: str | None, password: str) -> PasswordCheck:
        matches = await check_password(password_hash, password)
        if not self.reached.is_set():
            self.reached.set()
            await self.release.wait()
        return matches

    async def hold(self, login: asyncio.Task[Response]) -> None:
        """Returns once `login` is held at its password check (and fails, rather than
        waiting for ever, if it ended before getting there)."""
        reached = asyncio.ensure_future(self.reached.wait())
        await asyncio.wait({reached, login}, return_when=asyncio.FIRST_COMPLETED)
        reached.cancel()
        assert self.reached.is_set(), f"the login ended early: {(await login).text}"


@pytest.mark.slow
async def test_a_login_racing_a_password_change_cannot_use_the_old_password(
    committing_client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = unique_email()
    await register(committing_client, email)
    owner = (await login(committing_client, email)).json()
    paused = PausedPasswordCheck()
    monkeypatch.setattr(auth_service, "check_password", paused)

    # Someone who knows the old password signs in just as the owner changes it.
    with_old_password = asyncio.create_task(login(committing_client, email))
    await paused.hold(with_old_password)
    changed = await committing_client.post(
        "/auth/change-password",
        headers=bearer(owner["access_token"]),
        json={"current_password": PASSWORD, "new_password": "the owner's brand new passphrase"},
    )
    assert changed.status_code == 200
    paused.release.set()

    assert (await with_old_password).status_code == 401


@pytest.mark.slow
async def test_a_login_racing_a_deactivation_starts_no_session(
    committing_client: AsyncClient, db_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin_email, email = unique_email("admin"), unique_email()
    for address in (admin_email, email):
        await register(committing_client, address)
    async with db_engine.begin() as connection:
        await connection.execute(
            update(User).where(User.email == admin_email).values(role=UserRole.ADMIN)
        )
    admin_token = (await login(committing_client, admin_email)).json()["access_token"]
    paused = PausedPasswordCheck()
    monkeypatch.setattr(auth_service, "check_password", paused)

    signing_in = asyncio.create_task(login(committing_client, email))
    await paused.hold(signing_in)
    async with db_engine.connect() as connection:
        user_id = await connection.scalar(select(User.id).where(User.email == email))
    deactivated = await committing_client.post(
        f"/users/{user_id}/deactivate", headers=bearer(admin_token)
    )
    assert deactivated.status_code == 200
    paused.release.set()

    assert (await signing_in).status_code == 403
    # Nothing is left for a later reactivation to bring back to life.
    async with db_engine.connect() as connection:
        live = await connection.scalar(
            select(LoginSession.id).where(
                LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None)
            )
        )
    assert live is None
