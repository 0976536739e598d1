"""Hardening every stage shares, checked on the auth service's own routes: outdated password hashes
are upgraded, rate-limit keys hold no email address, personal responses are never stored,
and header bytes that are not UTF-8 get an answer. (The checks: `roadmap_shared.testing`.)"""

from httpx import AsyncClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.config import Settings
from roadmap_shared.testing.hostile_input import (
    assert_not_utf8_header_is_answered,
    headers_not_utf8,
)
from roadmap_shared.testing.no_store import assert_may_be_stored, assert_none_stored
from roadmap_shared.testing.sign_in import (
    assert_accounts_keyed_by_hash,
    assert_sign_in_upgrades_outdated_hash,
)
from tests.factories import PASSWORD, SignedIn, bearer, create_user, login, register


async def test_signing_in_upgrades_a_hash_made_with_older_parameters(
    client: AsyncClient, db_session: AsyncSession
) -> None:
    user = await create_user(db_session)
    await assert_sign_in_upgrades_outdated_hash(
        db_session, user, PASSWORD, lambda: login(client, user.email)
    )


async def test_rate_limit_keys_in_redis_never_hold_an_email_address(
    client: AsyncClient, redis_client: Redis, settings: Settings
) -> None:
    email = "Someone.Private@Example.com"
    await login(client, email, "not the right passphrase")
    await client.post("/auth/password-reset", json={"email": email})

    await assert_accounts_keyed_by_hash(
        redis_client,
        email,
        secret=settings.rate_limit_key_secret,
        key="auth:ratelimit:login-account:{hashed}",
    )


async def test_responses_with_tokens_or_personal_data_are_never_stored(
    client: AsyncClient, db_session: AsyncSession, alice: SignedIn
) -> None:
    user = await create_user(db_session)
    responses = {
        "register": await register(client),
        "login": await login(client, user.email),
        "refresh": await client.post("/auth/refresh", json={"refresh_token": alice.refresh_token}),
        "me": await client.get("/users/me", headers=alice.headers),
        "tasks": await client.get("/tasks", headers=alice.headers),
        "bad token": await client.get("/users/me", headers=bearer("not-a-jwt")),
    }
    assert_none_stored(responses, status_below=500)
    # Public responses may be stored.
    assert_may_be_stored(await client.get("/healthz"))


@headers_not_utf8("/healthz", "/users/me", "/tasks")
async def test_header_bytes_that_are_not_utf8_get_a_normal_answer(
    client: AsyncClient, path: str, header: bytes
) -> None:
    await assert_not_utf8_header_is_answered(client, path, header)
